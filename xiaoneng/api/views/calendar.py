"""The working-day calendar (perm `calendar.view`) and the deadline calculator.

Calendar days belong to no region, so `access.scoped` (which needs a region or organ
field) cannot filter them; `access.has_perm` is the gate instead, and a user without
the permission gets an empty list, like every other list. A year the calendar has not
loaded is shown with the holidays the law fixes (calendar.sources.statutory_holidays)
and otherwise by the weekend rule, every day marked provisional: the days the clocks use.
"""
from datetime import date, timedelta

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import viewsets
from rest_framework.response import Response
from rest_framework.views import APIView

from xiaoneng.calendar.models import CalendarDay, CalendarYear, DayKind
from xiaoneng.calendar.sources import statutory_holidays
from xiaoneng.clocks import calculator
from xiaoneng.orgs import access

from .. import params as p
from .. import serializers as s
from ..errors import ErrorFormatMixin, bad_parameter_example, error_responses
from ..pagination import ApiPagination
from .base import HasPerm, read_params

CALENDAR_VIEW = "calendar.view"
KIND_LABELS = dict(DayKind.choices)


def _day(d: date, is_working: bool, kind: str, name: str, source: str, provisional: bool) -> dict:
    return {
        "date": d,
        "weekday": d.isoweekday(),
        "is_working": is_working,
        "kind": kind,
        "kind_display": str(KIND_LABELS.get(kind, kind)),
        "name": name,
        "source": source,
        "provisional": provisional,
    }


def year_days(year: int, month: int | None = None) -> list[dict]:
    """The days of `year` (or of one month), from the table or by the law's holidays and the weekend rule."""
    first = date(year, month or 1, 1)
    last = (date(year, month + 1, 1) - timedelta(days=1)) if month and month < 12 else date(year, 12, 31)
    rows = {
        row.date: row for row in CalendarDay.objects.filter(date__gte=first, date__lte=last).order_by("date")
    }
    provisional = not CalendarYear.objects.filter(year=year).exists()
    statutory = statutory_holidays(year) if provisional else {}
    out = []
    d = first
    while d <= last:
        row = rows.get(d)
        if row is not None:
            out.append(_day(d, row.is_working, row.kind, row.name, row.source, provisional))
        elif d in statutory:
            out.append(_day(d, False, DayKind.HOLIDAY, statutory[d], "statutory-rule", provisional))
        else:
            working = d.weekday() < 5
            kind = DayKind.WORKDAY if working else DayKind.WEEKEND
            out.append(_day(d, working, kind, "", "weekend-rule", provisional))
        d += timedelta(days=1)
    return out


@extend_schema(tags=["日历 Calendar"])
class CalendarDayViewSet(ErrorFormatMixin, viewsets.GenericViewSet):
    serializer_class = s.CalendarDaySerializer
    pagination_class = ApiPagination
    perm = CALENDAR_VIEW

    @extend_schema(
        summary="工作日日历 / Working-day calendar",
        description=(
            "某年每一天：是否工作日、类型（含调休上班）、节日名称、来源。未载入官方日历的年份按法定节假日（元旦、春节、清明、劳动节、端午、中秋、国庆）和周末规则推算，调休未计入，provisional=true。"
            " / Every day of a year; a year not loaded shows the statutory holidays and otherwise the weekend"
            " rule (no make-up working days), every day marked provisional."
        ),
        parameters=[p.CalendarParams],
        responses={200: s.CalendarDaySerializer(many=True), **error_responses(not_found=True)},
        examples=[bad_parameter_example("year", "该字段是必填项。")],
    )
    def list(self, request):
        params = read_params(p.CalendarParams, request.query_params)
        days = year_days(params["year"], params.get("month")) if access.has_perm(request.user, self.perm) else []
        if params.get("is_working") is not None:
            days = [d for d in days if d["is_working"] == params["is_working"]]
        page = self.paginate_queryset(days)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


NATIONAL_DAY_EXAMPLE = {
    "start_date": "2026-09-28",
    "unit": "working",
    "limit": 20,
    "extension": 0,
    "due_date": "2026-11-04",
    "due_at": "2026-11-05T00:00:00+08:00",
    "warn_date": "2026-10-29",
    "working_days_counted": 20,
    "calendar_days": 37,
    "provisional": False,
    "pauses": [{"first": "2026-10-12", "last": "2026-10-14"}],
    "explanation": (
        "起算日 2026-09-28（当日不计入）；时限 20 个工作日；不计入的节假日：国庆节 10-01 至 10-07；"
        "调休上班计入：10-10（星期六）；暂停 3 个工作日（10-12 至 10-14），不计入时限；到期 2026-11-04 24:00。"
    ),
}


class DeadlineView(ErrorFormatMixin, APIView):
    """`GET /api/v1/deadline/`: the same calculator, checks and words as `xiaoneng deadline`."""

    permission_classes = [*APIView.permission_classes, HasPerm]
    perm = CALENDAR_VIEW

    @extend_schema(
        tags=["期限计算 Deadline"],
        summary="期限计算器 / Deadline calculator",
        description=(
            "起算日当日不计入；N 个工作日到第 N 个工作日 24:00 届满；pause=A:B 表示 A 至 B（含）时钟停止，可重复；"
            "extend 在原时限后增加工作日。错误时返回 400 及出错参数。"
            " / The start day is not counted; N working days end at 24:00 of the N-th working day;"
            " `pause=A:B` stands the clock still on A..B inclusive (repeatable); `extend` adds working days."
        ),
        parameters=[
            OpenApiParameter("start", OpenApiTypes.DATE, required=True, description="起算日 / start date (YYYY-MM-DD)"),
            OpenApiParameter("days", {"type": "integer", "minimum": 0, "maximum": 3650}, required=True,
                             description="时限 / limit (0–3650)"),
            OpenApiParameter("unit", OpenApiTypes.STR, enum=["working", "calendar"], default="working"),
            OpenApiParameter(
                "pause",
                {"type": "array", "items": {"type": "string", "pattern": p.NO_NUL}},  # repeatable, no NUL
                style="form",
                explode=True,
                description="暂停 A:B（含首尾，可重复）/ stand-still dates, e.g. 2026-10-12:2026-10-14",
            ),
            OpenApiParameter("extend", {"type": "integer", "minimum": 0, "maximum": 3650}, default=0,
                             description="延长工作日 / extension in working days (0–3650)"),
        ],
        responses={200: s.DeadlineSerializer, **error_responses()},
        examples=[
            OpenApiExample(
                "国庆节 2026 National Day",
                summary="start=2026-09-28&days=20&pause=2026-10-12:2026-10-14",
                value=NATIONAL_DAY_EXAMPLE,
                response_only=True,
            ),
            OpenApiExample(
                "日期无效 Impossible date",
                value={"errors": [{"field": "start", "message": "start：“2026-02-30”不是有效日期，应为 YYYY-MM-DD", "code": "invalid"}]},
                response_only=True,
                status_codes=["400"],
            ),
        ],
    )
    def get(self, request):
        params = read_params(p.DeadlineParams, request.query_params)
        query = calculator.build_query(
            params["start"], params["days"], params["unit"], params["pause"], params["extend"]
        )
        return Response(calculator.calculate(query))
