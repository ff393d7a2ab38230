"""`POST /api/v1/exchange/events`: organs' own approval systems push case events.

Authentication is a per-source API key (`Authorization: Bearer <key>` or
`X-Api-Key: <key>`), never a session, so the view is CSRF-exempt (DRF's APIView is,
and no session authentication is configured on it). A wrong, missing or deactivated
key is a 401 and nothing is stored. Each source is throttled on its own
(`exchange_throttle_rate`, default 120 batches a minute). The body is handed to the
pipeline as bytes; see pipeline.py for what is stored and answered.
"""
from __future__ import annotations

from django.http import JsonResponse
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, permissions, throttling
from rest_framework.parsers import JSONParser
from rest_framework.views import APIView

from xiaoneng.api.errors import DetailErrorResponseSerializer, ErrorFormatMixin

from . import keys, pipeline
from .schema import EXAMPLES, BatchErrorSerializer, BatchResultSerializer, EventSerializer

DEFAULT_RATE = "120/min"


class SourceKeyAuthentication:
    """The request's source, from its API key; `request.auth` is the `ExchangeSource`."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        key = None
        if header:
            scheme, _sep, value = header.partition(" ")
            if scheme.lower() == "bearer" and value.strip():
                key = value.strip()
        key = key or request.META.get("HTTP_X_API_KEY", "").strip() or None
        if key is None:
            return None
        source = keys.authenticate(key)
        if source is None:
            raise exceptions.AuthenticationFailed(_("API 密钥无效或来源已停用"))
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), source

    def authenticate_header(self, request):
        return 'Bearer realm="exchange"'


class IsExchangeSource(permissions.BasePermission):
    message = gettext_lazy("需要数据交换来源的 API 密钥（Authorization: Bearer <key> 或 X-Api-Key）")

    def has_permission(self, request, view):
        from ..models import ExchangeSource

        return isinstance(request.auth, ExchangeSource)


class SourceThrottle(throttling.SimpleRateThrottle):
    """Batches per source and period; the rate is the programme rule `exchange_throttle_rate`."""

    scope = "exchange"

    def get_rate(self):
        from xiaoneng.conf import rule

        try:
            return rule("exchange_throttle_rate")
        except KeyError:
            return DEFAULT_RATE

    def get_cache_key(self, request, view):
        source = getattr(request, "auth", None)
        return self.cache_format % {"scope": self.scope, "ident": f"source-{source.pk}"} if source else None


class SourceKeyScheme(OpenApiAuthenticationExtension):
    target_class = "xiaoneng.approvals.exchange.api.SourceKeyAuthentication"
    name = ["ExchangeBearer", "ExchangeApiKey"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "http", "scheme": "bearer", "bearerFormat": "xn_<prefix>_<secret>",
             "description": "数据交换来源的 API 密钥（xiaoneng exchange-source create 输出的最后一行）"},
            {"type": "apiKey", "in": "header", "name": "X-Api-Key", "description": "同一密钥，另一种请求头"},
        ]

    def get_security_requirement(self, auto_schema):
        return [{"ExchangeBearer": []}, {"ExchangeApiKey": []}]


class ExchangeEventsView(ErrorFormatMixin, APIView):
    authentication_classes = [SourceKeyAuthentication]
    permission_classes = [IsExchangeSource]
    throttle_classes = [SourceThrottle]
    parser_classes = [JSONParser]  # documents the media type; the body is read raw, never through request.data

    @extend_schema(
        operation_id="exchange_events_create",
        tags=["数据交换 Exchange"],
        summary="推送办件事件 / Push case events",
        description=(
            "一批事件（JSON 数组，最多 `exchange_batch_max_events` 条，默认 1000）。原始请求体先保存，再逐条校验、应用；"
            "每条事件各有结果：accepted（已应用）、held（等待前序事件，到时自动应用，超时标记）、duplicate（同一来源同一"
            "event_id 已收到过，不重复应用；state 给出该事件现在的状态）、rejected（附字段和原因；修正后可用同一 event_id "
            "重发）。一条坏事件不影响其他事件。并联审批申请的 submitted 事件应用后，sub_cases 列出各机关的子办件编号。"
            "\n\nA JSON array of events (at most `exchange_batch_max_events`, default 1000). The raw body is stored first; "
            "each event gets its own result. A replay changes nothing (a duplicate's `state` tells the stored event's "
            "state); out-of-order events are held until their turn. An applied submission of a parallel application "
            "lists each organ's sub-case number in `sub_cases`."
        ),
        request=EventSerializer(many=True),
        responses={
            200: BatchResultSerializer,
            400: OpenApiResponse(BatchErrorSerializer, description="请求体不是 UTF-8 / 不是 JSON / 不是数组（原始数据已保存）"),
            401: OpenApiResponse(DetailErrorResponseSerializer, description="密钥缺失、错误或来源已停用（不保存任何数据）"),
            413: OpenApiResponse(BatchErrorSerializer, description="批次超过上限（原始数据已保存，未处理）"),
            429: OpenApiResponse(DetailErrorResponseSerializer, description="超过本来源的频率限制"),
            500: OpenApiResponse(BatchErrorSerializer, description="处理失败，原始数据已保存并将重新处理"),
        },
        examples=EXAMPLES,
    )
    def post(self, request):
        source = request.auth
        try:
            body = request.body
        except Exception:  # RequestDataTooBig: larger than DATA_UPLOAD_MAX_MEMORY_SIZE
            size = int(request.META.get("CONTENT_LENGTH") or 0)
            receipt = pipeline.refuse_unread(source, size)
            return JsonResponse(receipt.body, status=receipt.status, json_dumps_params={"ensure_ascii": False})
        receipt = pipeline.receive(source, body, content_type=request.META.get("CONTENT_TYPE", ""))
        return JsonResponse(receipt.body, status=receipt.status, json_dumps_params={"ensure_ascii": False})


urlpatterns = [path("exchange/events", ExchangeEventsView.as_view(), name="api-exchange-events")]
