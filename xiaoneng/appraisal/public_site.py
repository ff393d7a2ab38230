"""Published appraisal results on the public site (/public/appraisal/, no login).

A period appears only when it is published and its office chose to show it there
(`Period.on_public_site`, `do_set_public_site`); withdrawing it removes it at once. Only the ranking
is shown — per organ its total, rank and grade; never the lines, the 加减分, the objections or any
survey answer. Anything else (an unknown id, a period not published or not chosen) is the public 404.
"""
from __future__ import annotations

from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xiaoneng.audit.log import record

from .actions import AppraisalError, _locked
from .models import Period, PeriodStatus

PER_PAGE = 10


def public_periods():
    return (Period.objects.filter(status=PeriodStatus.PUBLISHED, on_public_site=True)
            .select_related("scheme__organ_class"))


@transaction.atomic
def do_set_public_site(period: Period, *, public: bool) -> Period:
    """Show (or withdraw) a published period's ranking on the public site."""
    period = _locked(period)
    public = bool(public)
    if public and period.status != PeriodStatus.PUBLISHED:
        raise AppraisalError(_("考评结果尚未公布，不能在公众网站公开"), "status")
    if period.on_public_site == public:
        return period
    period.on_public_site = public
    period.save(update_fields=["on_public_site"])
    record("appraisal.public_site", period, changes={"on_public_site": public})
    return period


def _ranking(period: Period) -> list[dict]:
    """The only fields the public reads of a result."""
    return [{"organ": r.organ.name, "total": r.total, "rank": r.rank, "grade": r.get_grade_display()}
            for r in period.results.select_related("organ").order_by("rank", "organ__name")]


def anything_public() -> bool:
    from xiaoneng.surveys.public_results import public_surveys

    return public_periods().exists() or public_surveys().exists()


@require_GET
def public_list(request):
    from xiaoneng.surveys.public_results import public_surveys

    page = Paginator(public_periods().order_by("-published_at", "-pk"), PER_PAGE).get_page(request.GET.get("page"))
    surveys = Paginator(public_surveys().order_by("-closed_at", "-pk"), PER_PAGE).get_page(request.GET.get("spage"))
    return render(request, "appraisal/public/list.html", {"page": page, "surveys": surveys})


@require_GET
def public_survey(request, pk: int):
    """A closed survey's figures per organ (群众评议), when its office chose to publish them."""
    from xiaoneng.surveys.public_results import public_figures, public_surveys

    survey = public_surveys().filter(pk=pk).first()
    if survey is None:
        raise Http404
    return render(request, "appraisal/public/survey.html", {"survey": survey, "figures": public_figures(survey)})


@require_GET
def public_detail(request, pk: int):
    period = public_periods().filter(pk=pk).first()
    if period is None:
        raise Http404
    return render(request, "appraisal/public/detail.html", {"period": period, "ranking": _ranking(period)})
