"""Clocks (perm `clock.view`): deadlines with their pauses, extensions and explanation."""
from datetime import timedelta

from django.db.models import BooleanField, Case, F, Q, Value, When
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_view

from xiaoneng.clocks import engine as clock_engine
from xiaoneng.clocks.models import Clock
from xiaoneng.lib.workdays import OutOfRange, end_of_day

from .. import params as p
from .. import serializers as s
from ..errors import bad_parameter_example, error_responses
from .base import ScopedReadOnlyViewSet

STOPPED = Q(state=Clock.State.STOPPED)


def overdue_q(now) -> Q:
    """Rows for which `Clock.is_overdue(now)` is true, as a filter (indexes on due_at apply)."""
    return Q(due_at__isnull=False) & ((STOPPED & Q(stopped_at__gt=F("due_at"))) | (~STOPPED & Q(due_at__lt=now)))


def not_overdue_q(now) -> Q:
    """The exact complement of `overdue_q`, written out so NULLs fall on the right side."""
    return (
        Q(due_at__isnull=True)
        | (STOPPED & (Q(stopped_at__isnull=True) | Q(stopped_at__lte=F("due_at"))))
        | (~STOPPED & Q(due_at__gte=now))
    )


def explanation(clock: Clock) -> str | None:
    """The clock's deadline in words (None if its dates fall outside the calendar's span)."""
    try:
        return clock_engine.explain_clock(clock)
    except OutOfRange:
        return None


@extend_schema_view(
    list=extend_schema(
        summary="时限列表 / List clocks",
        description=(
            "您范围内的时限。overdue=true 只列已超期的（已停止的按停止时间判断）；due_before / due_after 按到期日（含当日）。"
            " / Clocks in your scope. `overdue=true`: past due now (stopped ones: at their stop);"
            " `due_before`/`due_after`: by due date, inclusive."
        ),
        parameters=[p.ClockParams],
        responses={200: s.ClockSerializer(many=True), **error_responses(not_found=True)},
        examples=[bad_parameter_example("due_before", "日期格式错误。请从这些格式中选择：YYYY-MM-DD。")],
    ),
    retrieve=extend_schema(
        summary="时限详情 / One clock",
        description="含暂停、延长及文字说明。/ With pauses, extensions and the explanation in words.",
        responses={200: s.ClockDetailSerializer, **error_responses(bad_request=False, not_found=True)},
    ),
)
@extend_schema(tags=["时限 Clocks"])
class ClockViewSet(ScopedReadOnlyViewSet):
    perm = "clock.view"
    params_class = p.ClockParams

    def get_serializer_class(self):
        return s.ClockDetailSerializer if self.action == "retrieve" else s.ClockSerializer

    def base_queryset(self):
        self.now = timezone.now()
        queryset = Clock.objects.select_related("organ", "subject_type").annotate(
            overdue_now=Case(When(overdue_q(self.now), then=Value(True)), default=Value(False), output_field=BooleanField())
        )
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("pauses", "extensions")
        return queryset

    def filter_list(self, queryset, params):
        zone = clock_engine.tz()
        if "state" in params:
            queryset = queryset.filter(state=params["state"])
        if params.get("kind"):
            queryset = queryset.filter(kind=params["kind"])
        if "unit" in params:
            queryset = queryset.filter(unit=params["unit"])
        if "organ" in params:
            queryset = queryset.filter(organ_id=params["organ"])
        if "region" in params:
            queryset = queryset.filter(region_code__under=params["region"])
        if params.get("overdue") is True:
            queryset = queryset.filter(overdue_q(self.now))
        elif params.get("overdue") is False:
            queryset = queryset.filter(not_overdue_q(self.now))
        # A deadline "on day D" is stored as D+1 00:00 (the end of D), hence the bounds.
        if "due_before" in params:
            queryset = queryset.filter(due_at__lte=end_of_day(params["due_before"], zone))
        if "due_after" in params:
            queryset = queryset.filter(due_at__gt=end_of_day(params["due_after"] - timedelta(days=1), zone))
        field = params["ordering"].lstrip("-")
        descending = params["ordering"].startswith("-")
        key = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        return queryset.order_by(key, "-id" if descending else "id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "retrieve" and getattr(self, "_clock", None) is not None:
            context["explanation"] = explanation(self._clock)
        return context

    def get_object(self):
        self._clock = super().get_object()
        return self._clock
