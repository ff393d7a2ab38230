"""Complaints (perm `complaint.view`), read-only and without the complainant's identity.

Free texts (title, content, report, reply, reasons, step texts) are as written for a reader with the
identity right for the complaint, else masked with the complainant's identity (complaints/masking.py).

The scope is the pages' scope: officers and supervisors their region, an organ's staff
the complaints routed to their organ; anything else is a 404 and an outsider's list is
empty. The complainant appears only as 匿名 or the masked name; there is no reveal
over the API (revealing is a page action with a purpose, audited).
"""
from datetime import timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from xiaoneng.complaints import masking
from xiaoneng.complaints.duplicates import with_duplicate_visibility, with_merge_visibility
from xiaoneng.complaints.forms import overdue_q
from xiaoneng.complaints.models import Channel, Complaint, ComplaintStep, Status
from xiaoneng.lib.workdays import end_of_day

from .. import serializers as s
from ..errors import bad_parameter_example, error_responses
from ..params import RegionCodeField, day_field, id_field, ordering_field, text_field
from .base import ScopedReadOnlyViewSet


class ComplaintParams(serializers.Serializer):
    ORDERING = ["received_at", "-received_at", "number", "-number", "id", "-id"]

    q = text_field(max_length=100, help_text=gettext_lazy("编号或标题包含 / number or title contains"))
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    category = text_field(max_length=40, help_text=gettext_lazy("类别编码 / category code"))
    organ = id_field(gettext_lazy("承办机关 id / organ id"))
    region = RegionCodeField(required=False, help_text=gettext_lazy("区划及其下级 / region subtree"))
    received_after = day_field(gettext_lazy("登记日不早于此日（含）/ received on or after this date"))
    received_before = day_field(gettext_lazy("登记日不晚于此日（含）/ received on or before this date"))
    overdue = serializers.BooleanField(required=False, allow_null=True, default=None,
                                       help_text=gettext_lazy("true 受理或办理已超期 / an open clock is overdue"))
    duplicate = serializers.BooleanField(required=False, allow_null=True, default=None,
                                         help_text=gettext_lazy("true 疑似重复 / possible duplicate"))
    anonymous = serializers.BooleanField(required=False, allow_null=True, default=None)
    ordering = ordering_field(ORDERING, "-received_at", "排序 / ordering")

    def validate(self, attrs):
        after, before = attrs.get("received_after"), attrs.get("received_before")
        if after and before and after > before:
            raise serializers.ValidationError({"received_after": [_("不能晚于 received_before")]})
        return attrs


@extend_schema_view(
    list=extend_schema(
        summary="投诉列表 / List complaints",
        description=(
            "您范围内的效能投诉，不含投诉人身份（仅“匿名”或脱敏姓名）。"
            " / Complaints in your scope, without the complainant's identity (匿名 or the masked name only)."
        ),
        parameters=[ComplaintParams],
        responses={200: s.ComplaintSerializer(many=True), **error_responses(not_found=True)},
        examples=[bad_parameter_example("received_after", "日期格式错误。请从这些格式中选择：YYYY-MM-DD。")],
    ),
    retrieve=extend_schema(
        summary="投诉详情 / One complaint",
        description="含内容与办理过程。/ With its content and timeline.",
        responses={200: s.ComplaintDetailSerializer, **error_responses(bad_request=False, not_found=True)},
    ),
)
@extend_schema(tags=["投诉 Complaints"])
class ComplaintViewSet(ScopedReadOnlyViewSet):
    perm = "complaint.view"
    params_class = ComplaintParams

    def get_serializer_class(self):
        return s.ComplaintDetailSerializer if self.action == "retrieve" else s.ComplaintSerializer

    def base_queryset(self):
        queryset = Complaint.objects.select_related(
            "category", "organ", "acceptance_clock", "handling_clock", "possible_duplicate", "merged_into"
        ).defer("identity_enc", "secret_hash", "phone_digest")
        user = self.request.user
        queryset = masking.with_text_visibility(with_merge_visibility(with_duplicate_visibility(queryset, user), user), user)
        if self.action == "retrieve":
            steps = ComplaintStep.objects.select_related("organ").order_by("at", "pk")
            queryset = queryset.prefetch_related(Prefetch("steps", queryset=steps))
        return queryset

    def filter_list(self, queryset, params):
        if params.get("q"):
            text = params["q"].strip()
            queryset = queryset.filter(Q(number__icontains=text) | masking.title_search(text))
        for name in ("status", "channel"):
            if name in params:
                queryset = queryset.filter(**{name: params[name]})
        if params.get("category"):
            queryset = queryset.filter(category__code=params["category"])
        if "organ" in params:
            queryset = queryset.filter(organ_id=params["organ"])
        if "region" in params:
            queryset = queryset.filter(region_code__under=params["region"])
        zone = timezone.get_current_timezone()
        if "received_after" in params:
            queryset = queryset.filter(received_at__gte=end_of_day(params["received_after"] - timedelta(days=1), zone))
        if "received_before" in params:
            queryset = queryset.filter(received_at__lt=end_of_day(params["received_before"], zone))
        if params.get("overdue") is True:
            queryset = queryset.filter(overdue_q(timezone.now()))
        elif params.get("overdue") is False:
            queryset = queryset.exclude(overdue_q(timezone.now()))
        if params.get("duplicate") is not None:
            queryset = queryset.filter(possible_duplicate__isnull=not params["duplicate"])
        if params.get("anonymous") is not None:
            queryset = queryset.filter(anonymous=params["anonymous"])
        return queryset.order_by(params["ordering"], "-id" if params["ordering"].startswith("-") else "id")
