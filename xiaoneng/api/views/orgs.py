"""Regions, organs and staff (perm `org.view`)."""
from django.db.models import Count, Prefetch, Q
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view

from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ, Post, Region, Staff

from .. import params as p
from .. import serializers as s
from ..errors import bad_parameter_example, error_responses
from .base import ScopedReadOnlyViewSet

ORG_VIEW = "org.view"


@extend_schema_view(
    list=extend_schema(
        summary="行政区划列表 / List regions",
        description="您范围内的行政区划，按代码排序。/ Regions in your scope, by code.",
        parameters=[p.RegionParams],
        responses={200: s.RegionSerializer(many=True), **error_responses(not_found=True)},
        examples=[bad_parameter_example("level", "“abc”不是合法选项。")],
    ),
    retrieve=extend_schema(
        summary="行政区划 / One region",
        parameters=[OpenApiParameter("code", OpenApiTypes.STR, OpenApiParameter.PATH, description="12位区划代码 / 12-digit code")],
        responses={200: s.RegionSerializer, **error_responses(bad_request=False, not_found=True)},
    ),
)
@extend_schema(tags=["区划 Regions"])
class RegionViewSet(ScopedReadOnlyViewSet):
    perm = ORG_VIEW
    params_class = p.RegionParams
    serializer_class = s.RegionSerializer
    lookup_field = "code"
    lookup_value_regex = r"\d{12}"

    def base_queryset(self):
        return Region.objects.select_related("parent").order_by("code")

    def filter_list(self, queryset, params):
        if "under" in params:
            queryset = queryset.filter(prefix__under=params["under"])
        if "level" in params:
            queryset = queryset.filter(level=params["level"])
        if params.get("q"):
            queryset = queryset.filter(name__icontains=params["q"])
        return queryset


@extend_schema_view(
    list=extend_schema(
        summary="机关单位列表 / List organs",
        description=(
            "您范围内的机关单位；q 按名称或统一社会信用代码搜索，region 含下级区划。"
            " / Organs in your scope; `q` searches name and credit code, `region` includes the subtree."
        ),
        parameters=[p.OrganParams],
        responses={200: s.OrganSerializer(many=True), **error_responses(not_found=True)},
        examples=[bad_parameter_example("ordering", "“size”不是合法选项。")],
    ),
    retrieve=extend_schema(
        summary="机关单位详情 / One organ",
        description="含内设机构、岗位（指标、在岗人员）、在职人数。/ With units, posts (targets, holders) and staff count.",
        responses={200: s.OrganDetailSerializer, **error_responses(bad_request=False, not_found=True)},
    ),
)
@extend_schema(tags=["机构 Organs"])
class OrganViewSet(ScopedReadOnlyViewSet):
    perm = ORG_VIEW
    params_class = p.OrganParams

    def get_serializer_class(self):
        return s.OrganDetailSerializer if self.action == "retrieve" else s.OrganSerializer

    def base_queryset(self):
        queryset = Organ.objects.select_related("region")
        if self.action != "retrieve":
            return queryset
        # Post holders are staff records: show only those the user may see too.
        holders = access.scoped(Staff.objects.order_by("name", "id"), self.request.user, self.perm)
        posts = Post.objects.select_related("unit").prefetch_related("targets", Prefetch("holders", queryset=holders))
        return queryset.annotate(staff_count=Count("staff", filter=Q(staff__is_active=True))).prefetch_related(
            "units", Prefetch("posts", queryset=posts)
        )

    def filter_list(self, queryset, params):
        if params.get("q"):
            q = params["q"].strip()
            queryset = queryset.filter(
                Q(name__icontains=q) | Q(short_name__icontains=q) | Q(credit_code__istartswith=q)
            )
        if "region" in params:
            queryset = queryset.filter(region_code__under=params["region"])
        if "kind" in params:
            queryset = queryset.filter(kind=params["kind"])
        if params.get("is_active") is not None:
            queryset = queryset.filter(is_active=params["is_active"])
        return queryset.order_by(params["ordering"], "id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "retrieve" and hasattr(self, "_visible_parent"):
            context["visible_parent"] = self._visible_parent
        return context

    def get_object(self):
        organ = super().get_object()
        # The parent is named only if it is inside the user's scope as well.
        self._visible_parent = None
        if organ.parent_id:
            self._visible_parent = (
                access.scoped(Organ.objects.only("id", "name"), self.request.user, self.perm)
                .filter(pk=organ.parent_id)
                .first()
            )
        return organ


STAFF_ORDERING = {
    "name": ["name", "id"],
    "-name": ["-name", "-id"],
    "staff_no": ["staff_no", "id"],
    "-staff_no": ["-staff_no", "-id"],
    "organ": ["organ__region_code", "organ__name", "name", "id"],
    "-organ": ["-organ__region_code", "-organ__name", "name", "id"],
    "id": ["id"],
    "-id": ["-id"],
}


@extend_schema_view(
    list=extend_schema(
        summary="工作人员列表 / List staff",
        parameters=[p.StaffParams],
        responses={200: s.StaffSerializer(many=True), **error_responses(not_found=True)},
        examples=[bad_parameter_example("organ", "请填写合法的整数值。")],
    ),
    retrieve=extend_schema(
        summary="工作人员 / One staff member",
        responses={200: s.StaffSerializer, **error_responses(bad_request=False, not_found=True)},
    ),
)
@extend_schema(tags=["人员 Staff"])
class StaffViewSet(ScopedReadOnlyViewSet):
    perm = ORG_VIEW
    params_class = p.StaffParams
    serializer_class = s.StaffSerializer

    def base_queryset(self):
        posts = access.scoped(Post.objects.only("id", "title", "organ_id").order_by("title"), self.request.user, self.perm)
        return Staff.objects.select_related("organ", "unit").prefetch_related(Prefetch("posts", queryset=posts))

    def filter_list(self, queryset, params):
        if params.get("q"):
            q = params["q"].strip()
            queryset = queryset.filter(Q(name__icontains=q) | Q(staff_no__iexact=q))
        if "organ" in params:
            queryset = queryset.filter(organ_id=params["organ"])
        if "unit" in params:
            queryset = queryset.filter(unit_id=params["unit"])
        if "region" in params:
            queryset = queryset.filter(organ__region_code__under=params["region"])
        if params.get("is_active") is not None:
            queryset = queryset.filter(is_active=params["is_active"])
        return queryset.order_by(*STAFF_ORDERING[params["ordering"]])
