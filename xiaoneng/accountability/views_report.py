"""The periodic report to the government (监察部门定期向政府报告): choose a region and a quarter or a
year, read the figures with the previous period beside them (tables and ECharts served locally),
download them as Excel, and issue the report as an official document (acct.report).

Scope: regions offered and accepted are those the user holds "accountability.view" on; the figures
count only the cases the user may see there. Without the permission the page is a 404; a region
outside scope or a malformed period is a form error answered with 400, counting nothing.
"""
from __future__ import annotations

from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from xiaoneng.clocks.engine import local_date
from xiaoneng.documents.kinds.accountability import report_office
from xiaoneng.documents.models import Document
from xiaoneng.documents.views import readable_by
from xiaoneng.lib.codes import normalise_region_code
from xiaoneng.orgs import access
from xiaoneng.orgs.filters import LEVEL_BY_PREFIX_LENGTH, TREE_DEPTH
from xiaoneng.orgs.models import Region

from . import actions
from . import report as R
from .models import Case, PeriodicReport
from .views import MANAGE, VIEW, visible


def report_regions(user) -> list[Region]:
    """The regions the user may report on: their accountability scope, down to TREE_DEPTH levels."""
    prefixes = access.region_prefixes(user, VIEW)
    if prefixes is not None and not prefixes:
        return []
    top = 1 if prefixes is None else min(LEVEL_BY_PREFIX_LENGTH[len(p)] for p in prefixes)
    qs = access.scoped(Region.objects.filter(level__lte=top + TREE_DEPTH), user, VIEW)
    return list(qs.only("code", "prefix", "name", "level").order_by("code"))


class ReportForm(forms.Form):
    # A text field drawn as a menu: a 6-digit code is accepted like its 12-digit form, and anything
    # outside the user's scope gets the same words whether it exists or not.
    region = forms.CharField(label=_("区划"), max_length=12, widget=forms.Select)
    period = forms.CharField(label=_("报告期"), max_length=10, help_text=_("年度如 2026，季度如 2026-Q1"))

    def __init__(self, data=None, *, regions: list[Region]):
        super().__init__(data)
        self.regions = {r.code: r for r in regions}
        top = min((r.level for r in regions), default=1)
        self.fields["region"].widget.choices = [(r.code, "\u3000" * (r.level - top) + r.name) for r in regions]

    def clean_region(self):
        code = normalise_region_code(self.cleaned_data["region"])
        if code not in self.regions:
            raise forms.ValidationError(_("请选择您有权查看的区划"))
        return self.regions[code]

    def clean_period(self):
        try:
            return R.Period.parse(self.cleaned_data["period"])
        except R.PeriodError as exc:
            raise forms.ValidationError(str(exc)) from None


def _form(data, regions):
    if not data:
        today = local_date(timezone.now())
        data = {"region": regions[0].code if regions else "", "period": R.Period.containing(today).code}
    return ReportForm(data, regions=regions)


def _documents(user, region, period):
    row = PeriodicReport.objects.filter(region=region, year=period.year, quarter=period.quarter).first()
    if row is None:
        return []
    docs = Document.objects.filter(kind="acct.report", subject_key=f"acct_report:{row.pk}")
    return list(readable_by(user, docs, ("accountability.view",)))


def _may_issue(user, region) -> bool:
    return (access.has_perm(user, MANAGE)
            and access.scoped(Region.objects.filter(pk=region.pk), user, MANAGE).exists())


@require_GET
@login_required
def report_page(request):
    if not access.has_perm(request.user, VIEW):
        raise Http404
    regions = report_regions(request.user)
    data = request.GET if ("region" in request.GET or "period" in request.GET) else None
    form = _form(data, regions)
    if not form.is_valid():
        return render(request, "accountability/report.html", {"form": form}, status=400)
    region, period = form.cleaned_data["region"], form.cleaned_data["period"]
    cases = R.region_cases(visible(Case.objects.all(), request.user), region)
    rep = R.build(cases, region, period)
    tables = R.tables(rep)
    health = list(zip(R.health_rows(rep.current), R.health_rows(rep.previous), strict=True))
    if request.GET.get("export") == "xlsx":
        from xiaoneng.lib.xlsx import xlsx_response

        cur, prev = period.label, period.previous().label
        rows = [(gettext("与上期比较"), c.label, c.current, c.previous, c.change) for c in rep.comparison]
        rows += [(gettext("问责工作健康度"), a[0], a[1], b[1], "") for a, b in health]
        rows += [(str(title), row.label, row.value, "", "") for _key, title, table in tables for row in table]
        name = f"{gettext('问责工作情况报告')}-{region.name}-{period.code}.xlsx"
        return xlsx_response(name, gettext("问责工作情况报告"),
                             [gettext("部分"), gettext("项目"), cur, prev, gettext("增减")], rows)
    charts = {key: _chart(str(title), rows) for key, title, rows in tables if rows and key != "organ"}
    charts["compare"] = _chart(gettext("与上期比较"), R.chart_rows(rep))
    return render(request, "accountability/report.html", {
        "form": form, "report": rep, "tables": tables, "health": health, "charts": charts,
        "documents": _documents(request.user, region, period), "may_issue": _may_issue(request.user, region),
        "office": report_office(region.prefix),
    })


def _chart(title: str, rows) -> dict:
    """The JSON web/js/charts.js draws: {title, labels, values}. The report's tables are short
    (sources, measures, ranks), so each is charted whole, unlike the organ tables of the statistics page."""
    return {"title": title, "labels": [r.label for r in rows], "values": [r.value for r in rows]}


@require_POST
@login_required
def report_issue(request):
    """Issue the report of the region and period posted, in the efficiency office's name."""
    if not access.has_perm(request.user, VIEW):
        raise Http404
    form = ReportForm(request.POST, regions=report_regions(request.user))
    if not form.is_valid():
        return render(request, "accountability/report.html", {"form": form}, status=400)
    region, period = form.cleaned_data["region"], form.cleaned_data["period"]
    if not _may_issue(request.user, region):
        raise Http404
    cases = R.region_cases(visible(Case.objects.all(), request.user), region)
    try:
        document = actions.do_issue_period_report(region, period, cases=cases, actor=request.user)
    except actions.AccountabilityError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, gettext("已制发%(title)s，文号 %(number)s。") % {"title": document.title,
                                                                           "number": document.number})
    return redirect(reverse("accountability:report") + "?" + urlencode({"region": region.code, "period": period.code}))
