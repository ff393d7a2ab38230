"""Performance appraisal (绩效考评), read-only, scoped exactly like the pages (xiaoneng/appraisal/scope.py).

* `appraisal/schemes` — schemes with their indicator tree: the appraisal office of the class's region.
* `appraisal/periods` — periods whose ranking or own result the user may read.
* `appraisal/results` — results with their lines and lineage (formula, raw value, the query of the records
  counted): the office every result of its region, an organ its own result once provisional.
* `appraisal/rankings` — published periods with the class's ranking (totals, ranks, grades): the office, the
  organs of the class, and the people's congress deputies / CPPCC members of the region.

Anyone else: empty lists and 404 for any id, as for records that do not exist.
"""
from django.db.models import Prefetch
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers

from xiaoneng.appraisal import scope
from xiaoneng.appraisal.models import (
    Grade,
    Indicator,
    Period,
    PeriodStatus,
    Result,
    ResultLine,
    Scheme,
    SchemeStatus,
)

from ..errors import error_responses
from ..params import id_field, ordering_field
from .base import ScopedReadOnlyViewSet

TAGS = ["考评 Appraisal"]


class SchemeParams(serializers.Serializer):
    ORDERING = ["year", "-year", "id", "-id"]

    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    status = serializers.ChoiceField(choices=SchemeStatus.choices, required=False)
    ordering = ordering_field(ORDERING, "-year", "排序 / ordering")


class PeriodParams(serializers.Serializer):
    ORDERING = ["starts_on", "-starts_on", "id", "-id"]

    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
    status = serializers.ChoiceField(choices=PeriodStatus.choices, required=False)
    ordering = ordering_field(ORDERING, "-starts_on", "排序 / ordering")


class ResultParams(serializers.Serializer):
    ORDERING = ["rank", "-rank", "total", "-total", "id", "-id"]

    period = id_field(gettext_lazy("考评期 id / period id"))
    organ = id_field(gettext_lazy("机关 id / organ id"))
    grade = serializers.ChoiceField(choices=Grade.choices, required=False)
    ordering = ordering_field(ORDERING, "rank", "排序 / ordering")


class IndicatorSerializer(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Indicator
        fields = ["id", "code", "parent_code", "name", "weight", "order", "source", "method", "params"]


class SchemeSerializer(serializers.ModelSerializer):
    organ_class_name = serializers.CharField(source="organ_class.name", read_only=True)
    region_code = serializers.CharField(source="organ_class.region_code", read_only=True)

    class Meta:
        model = Scheme
        fields = ["id", "organ_class", "organ_class_name", "region_code", "year", "version", "title", "status",
                  "copied_from"]


class SchemeDetailSerializer(SchemeSerializer):
    indicators = IndicatorSerializer(many=True, read_only=True)

    class Meta(SchemeSerializer.Meta):
        fields = [*SchemeSerializer.Meta.fields, "indicators"]


class PeriodSerializer(serializers.ModelSerializer):
    year = serializers.IntegerField(source="scheme.year", read_only=True)
    organ_class = serializers.IntegerField(source="scheme.organ_class_id", read_only=True)
    organ_class_name = serializers.CharField(source="scheme.organ_class.name", read_only=True)
    objection_due_at = serializers.DateTimeField(source="objection_clock.due_at", read_only=True, allow_null=True,
                                                 default=None)

    class Meta:
        model = Period
        fields = ["id", "scheme", "year", "organ_class", "organ_class_name", "starts_on", "ends_on", "status",
                  "computed_at", "provisional_at", "objection_due_at", "published_at"]


class LineSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="indicator.code", read_only=True)
    name = serializers.CharField(source="indicator.name", read_only=True)
    query = serializers.DictField(read_only=True, help_text=gettext_lazy(
        "计分所依据记录的查询（来源、机关、起止日）/ the query of the records counted (source, organ, dates)"))

    class Meta:
        model = ResultLine
        fields = ["id", "indicator", "code", "name", "value", "numerator", "denominator", "score", "weighted",
                  "formula", "query"]


class ResultSerializer(serializers.ModelSerializer):
    organ_name = serializers.CharField(source="organ.name", read_only=True)
    year = serializers.IntegerField(source="period.scheme.year", read_only=True)
    period_status = serializers.CharField(source="period.status", read_only=True)

    class Meta:
        model = Result
        fields = ["id", "period", "year", "period_status", "organ", "organ_name", "total", "rank", "grade"]


class ResultDetailSerializer(ResultSerializer):
    lines = LineSerializer(many=True, read_only=True)

    class Meta(ResultSerializer.Meta):
        fields = [*ResultSerializer.Meta.fields, "lines"]


class RankingRowSerializer(serializers.ModelSerializer):
    organ_name = serializers.CharField(source="organ.name", read_only=True)

    class Meta:
        model = Result
        fields = ["organ", "organ_name", "total", "rank", "grade"]


class RankingSerializer(PeriodSerializer):
    ranking = RankingRowSerializer(source="results", many=True, read_only=True)

    class Meta(PeriodSerializer.Meta):
        fields = [*PeriodSerializer.Meta.fields, "ranking"]


def _list(summary, description, serializer, params):
    return extend_schema(summary=summary, description=description, parameters=[params],
                         responses={200: serializer(many=True), **error_responses()})


def _one(summary, description, serializer):
    return extend_schema(summary=summary, description=description,
                         responses={200: serializer, **error_responses(bad_request=False, not_found=True)})


@extend_schema_view(
    list=_list("考评方案列表 / List appraisal schemes", "考评办范围内的方案。/ Schemes in the appraisal office's region.",
               SchemeSerializer, SchemeParams),
    retrieve=_one("考评方案及指标树 / One scheme with its indicator tree",
                  "指标按编号排列，parent_code 指明上级。/ Indicators by code; parent_code names the parent.",
                  SchemeDetailSerializer),
)
@extend_schema(tags=TAGS)
class SchemeViewSet(ScopedReadOnlyViewSet):
    perm = scope.APPRAISE
    params_class = SchemeParams

    def get_serializer_class(self):
        return SchemeDetailSerializer if self.action == "retrieve" else SchemeSerializer

    def base_queryset(self):
        queryset = Scheme.objects.select_related("organ_class")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("indicators", queryset=Indicator.objects.select_related("parent").order_by("code")))
        return queryset

    def filter_list(self, queryset, params):
        if "year" in params:
            queryset = queryset.filter(year=params["year"])
        if "status" in params:
            queryset = queryset.filter(status=params["status"])
        return queryset.order_by(params["ordering"], "-id" if params["ordering"].startswith("-") else "id")


def _visible_periods(user):
    return Period.objects.filter(pk__in=scope.ranking_periods(user).values("pk")) | Period.objects.filter(
        pk__in=scope.own_results(user).values("period_id"))


@extend_schema_view(
    list=_list("考评期列表 / List appraisal periods", "您可查看其排名或本单位结果的考评期。/ Periods whose ranking or "
               "your own result you may read.", PeriodSerializer, PeriodParams),
    retrieve=_one("考评期详情 / One appraisal period", "", PeriodSerializer),
)
@extend_schema(tags=TAGS)
class PeriodViewSet(ScopedReadOnlyViewSet):
    params_class = PeriodParams
    serializer_class = PeriodSerializer

    def base_queryset(self):
        return Period.objects.select_related("scheme__organ_class", "objection_clock")

    def scoped_queryset(self, queryset):
        return queryset.filter(pk__in=_visible_periods(self.request.user).values("pk"))

    def filter_list(self, queryset, params):
        if "year" in params:
            queryset = queryset.filter(scheme__year=params["year"])
        if "status" in params:
            queryset = queryset.filter(status=params["status"])
        return queryset.order_by(params["ordering"], "-id" if params["ordering"].startswith("-") else "id")


@extend_schema_view(
    list=_list("考评结果列表 / List appraisal results", "考评办：本区划全部结果；机关：本单位预告后的结果。"
               "/ The office: every result of its region; an organ: its own once provisional.", ResultSerializer,
               ResultParams),
    retrieve=_one("考评结果及各指标得分来源 / One result with its lines and lineage", "", ResultDetailSerializer),
)
@extend_schema(tags=TAGS)
class ResultViewSet(ScopedReadOnlyViewSet):
    params_class = ResultParams

    def get_serializer_class(self):
        return ResultDetailSerializer if self.action == "retrieve" else ResultSerializer

    def base_queryset(self):
        queryset = Result.objects.select_related("organ", "period__scheme")
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                Prefetch("lines", queryset=ResultLine.objects.select_related("indicator").order_by("indicator__code")))
        return queryset

    def scoped_queryset(self, queryset):
        return queryset.filter(pk__in=scope.full_results(self.request.user).values("pk"))

    def filter_list(self, queryset, params):
        if "period" in params:
            queryset = queryset.filter(period_id=params["period"])
        if "organ" in params:
            queryset = queryset.filter(organ_id=params["organ"])
        if "grade" in params:
            queryset = queryset.filter(grade=params["grade"])
        return queryset.order_by(params["ordering"], "-id" if params["ordering"].startswith("-") else "id")


@extend_schema_view(
    list=_list("已公布的考评排名 / Published rankings", "已公布考评期的类别排名（总分、排名、等次）。"
               "/ The ranking of each published period (totals, ranks, grades).", RankingSerializer, PeriodParams),
    retrieve=_one("一个考评期的已公布排名 / One published ranking", "", RankingSerializer),
)
@extend_schema(tags=TAGS)
class RankingViewSet(ScopedReadOnlyViewSet):
    params_class = PeriodParams
    serializer_class = RankingSerializer

    def base_queryset(self):
        return Period.objects.filter(status=PeriodStatus.PUBLISHED).select_related(
            "scheme__organ_class", "objection_clock").prefetch_related(
            Prefetch("results", queryset=Result.objects.select_related("organ").order_by("rank", "organ__name")))

    def scoped_queryset(self, queryset):
        return queryset.filter(pk__in=scope.ranking_periods(self.request.user).values("pk"))

    filter_list = PeriodViewSet.filter_list
