"""Accountability proposals (问责线索; perm `accountability.view`), read-only.

Scoped like the cases (the supervisors of the region subtree, anyone else an empty list and a
404). A proposal may name a person (an escalation) and carries its evidence chain, so each read of
one is audited (`accountability.read`), as on the proposal page.
"""
from django.db.models import Q
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers
from rest_framework.response import Response

from xiaoneng.accountability.models import Evidence, Proposal, ProposalStatus, Source
from xiaoneng.audit.log import record

from ..errors import error_responses
from ..params import RegionCodeField, id_field, ordering_field, text_field
from .base import ScopedReadOnlyViewSet


class AccountabilityProposalParams(serializers.Serializer):
    ORDERING = ["proposed_at", "-proposed_at", "id", "-id"]

    q = text_field(max_length=100, help_text=gettext_lazy("事由包含 / title contains"))
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    status = serializers.ChoiceField(choices=ProposalStatus.choices, required=False)
    organ = id_field(gettext_lazy("涉及机关 id / organ concerned id"))
    region = RegionCodeField(required=False, help_text=gettext_lazy("区划及其下级 / region subtree"))
    ordering = ordering_field(ORDERING, "-proposed_at", "排序 / ordering")


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Evidence
        fields = ["id", "kind", "label", "text"]


class AccountabilityProposalSerializer(serializers.ModelSerializer):
    organ_name = serializers.CharField(source="organ.name", read_only=True)

    class Meta:
        model = Proposal
        fields = ["id", "source", "organ", "organ_name", "region_code", "title", "proposed_at", "status",
                  "handled_at", "case", "proposed_measure"]


class AccountabilityProposalDetailSerializer(AccountabilityProposalSerializer):
    evidence = EvidenceSerializer(many=True, read_only=True)

    class Meta(AccountabilityProposalSerializer.Meta):
        fields = [*AccountabilityProposalSerializer.Meta.fields, "reason", "staff", "decline_reason", "evidence"]


@extend_schema_view(
    list=extend_schema(
        summary="问责线索列表 / List accountability proposals",
        description="您范围内的问责线索。/ Accountability proposals in your scope.",
        parameters=[AccountabilityProposalParams],
        responses={200: AccountabilityProposalSerializer(many=True), **error_responses()},
    ),
    retrieve=extend_schema(
        summary="问责线索详情 / One accountability proposal",
        description="含证据链；每次读取记入审计日志。/ With its evidence chain; every read is audited.",
        responses={200: AccountabilityProposalDetailSerializer, **error_responses(bad_request=False, not_found=True)},
    ),
)
@extend_schema(tags=["问责 Accountability"])
class AccountabilityProposalViewSet(ScopedReadOnlyViewSet):
    perm = "accountability.view"
    params_class = AccountabilityProposalParams

    def get_serializer_class(self):
        return AccountabilityProposalDetailSerializer if self.action == "retrieve" else AccountabilityProposalSerializer

    def base_queryset(self):
        queryset = Proposal.objects.select_related("organ")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("evidence")
        return queryset

    def filter_list(self, queryset, params):
        if params.get("q"):
            queryset = queryset.filter(Q(title__icontains=params["q"].strip()))
        for name in ("source", "status"):
            if name in params:
                queryset = queryset.filter(**{name: params[name]})
        if "organ" in params:
            queryset = queryset.filter(organ_id=params["organ"])
        if "region" in params:
            queryset = queryset.filter(region_code__under=params["region"])
        return queryset.order_by(params["ordering"], "-id" if params["ordering"].startswith("-") else "id")

    def retrieve(self, request, *args, **kwargs):
        proposal = self.get_object()
        record("accountability.read", proposal, changes={"channel": "api"})
        return Response(self.get_serializer(proposal).data)
