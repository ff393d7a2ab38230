"""Accountability cases (perm `accountability.view`), read-only.

Personnel data: the scope is the pages' scope (supervisors' region subtree), anything else a
404 and an outsider's list empty; every read of one case is audited (`accountability.read`).
"""
from django.db.models import Prefetch, Q
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from xiaoneng.accountability import measures as M
from xiaoneng.accountability.models import Case, Filing, Party, Status
from xiaoneng.audit.log import record

from ..errors import error_responses
from ..params import RegionCodeField, id_field, ordering_field, text_field
from .base import ScopedReadOnlyViewSet


class AccountabilityCaseParams(serializers.Serializer):
    ORDERING = ["registered_at", "-registered_at", "number", "-number", "id", "-id"]

    q = text_field(max_length=100,
                   help_text=gettext_lazy("编号、案由或文号包含 / number, title or decision number contains"))
    status = serializers.ChoiceField(choices=Status.choices, required=False)
    organ = id_field(gettext_lazy("涉及机关 id / organ concerned id"))
    region = RegionCodeField(required=False, help_text=gettext_lazy("区划及其下级 / region subtree"))
    ordering = ordering_field(ORDERING, "-registered_at", "排序 / ordering")


class PartySerializer(serializers.ModelSerializer):
    measure_label = serializers.SerializerMethodField()

    class Meta:
        model = Party
        fields = ["id", "name", "rank", "staff", "organ", "responsibility", "notified_measure", "notified_months",
                  "notified_at", "heard_at", "hearing_waived", "tolerance_outcome", "measure", "measure_label",
                  "months", "starts_on", "ends_on", "effect_ends_on", "revoked_on"]

    def get_measure_label(self, obj) -> str:
        table = M.all_measures()
        return str(table[obj.measure].label) if obj.measure in table else obj.measure


class FilingSerializer(serializers.ModelSerializer):
    due_at = serializers.DateTimeField(source="clock.due_at", read_only=True, allow_null=True)

    class Meta:
        model = Filing
        fields = ["level", "reasons", "due_at", "filed_with", "filed_at"]


class AccountabilityCaseSerializer(serializers.ModelSerializer):
    organ_name = serializers.CharField(source="organ.name", read_only=True)
    deciding_organ_name = serializers.CharField(source="deciding_organ.name", read_only=True)
    decision_due_at = serializers.DateTimeField(source="decision_clock.due_at", read_only=True, allow_null=True)
    filing_due_at = serializers.DateTimeField(source="filing_clock.due_at", read_only=True, allow_null=True)

    class Meta:
        model = Case
        fields = ["id", "number", "title", "status", "organ", "organ_name", "region_code", "deciding_organ",
                  "deciding_organ_name", "registered_at", "decision_due_at", "decided_at", "decider",
                  "decision_number", "served_at", "announced_at", "announcement_scope", "announcement_public",
                  "filing_due_at", "filed_at",
                  "filed_with"]


class AccountabilityCaseDetailSerializer(AccountabilityCaseSerializer):
    parties = PartySerializer(many=True, read_only=True)
    filings = FilingSerializer(many=True, read_only=True)

    class Meta(AccountabilityCaseSerializer.Meta):
        fields = [*AccountabilityCaseSerializer.Meta.fields, "findings", "parties", "filings"]


@extend_schema_view(
    list=extend_schema(
        summary="问责案件列表 / List accountability cases",
        description="您范围内的问责案件。/ Accountability cases in your scope.",
        parameters=[AccountabilityCaseParams],
        responses={200: AccountabilityCaseSerializer(many=True), **error_responses()},
    ),
    retrieve=extend_schema(
        summary="问责案件详情 / One accountability case",
        description="含责任人及其问责方式、期间；每次读取记入审计日志。/ With the persons concerned, their measures and "
                    "periods; every read is audited.",
        responses={200: AccountabilityCaseDetailSerializer, **error_responses(bad_request=False, not_found=True)},
    ),
)
@extend_schema(tags=["问责 Accountability"])
class AccountabilityCaseViewSet(ScopedReadOnlyViewSet):
    perm = "accountability.view"
    params_class = AccountabilityCaseParams

    def get_serializer_class(self):
        return AccountabilityCaseDetailSerializer if self.action == "retrieve" else AccountabilityCaseSerializer

    def base_queryset(self):
        queryset = Case.objects.select_related("organ", "deciding_organ", "decision_clock", "filing_clock")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(Prefetch("parties", queryset=Party.objects.order_by("pk")),
                                                 Prefetch("filings", queryset=Filing.objects.select_related("clock")))
        return queryset

    def filter_list(self, queryset, params):
        if params.get("q"):
            text = params["q"].strip()
            queryset = queryset.filter(Q(number__icontains=text) | Q(title__icontains=text)
                                       | Q(decision_number__icontains=text))
        if "status" in params:
            queryset = queryset.filter(status=params["status"])
        if "organ" in params:
            queryset = queryset.filter(organ_id=params["organ"])
        if "region" in params:
            queryset = queryset.filter(region_code__under=params["region"])
        return queryset.order_by(params["ordering"], "-id" if params["ordering"].startswith("-") else "id")

    def retrieve(self, request, *args, **kwargs):
        case = self.get_object()
        record("accountability.read", case, changes={"channel": "api"})
        return Response(self.get_serializer(case).data)
