"""The yearly appraisal report (年度绩效考评情况通报) of a region: per class the ranking with grades, the summary
of the top-level indicators (class average, best, worst) and the objections decided.

Issued by the appraisal office of the classes' region (the organ of that region whose short name is
`appraisal_office_short_name`; where there is none, an office named by `appraisal_office_name`), once per
region and year, when every class of the region's year is published. Read by the office, the supervisors and
the people's congress deputies / CPPCC members of the region (its results are public by then).
"""
from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaoneng.conf import rule

from . import KINDS, SUBJECTS, Content, DocumentKind, Issuer, Subject, register
from .approvals import _day

CODE = "appraisal.report"


def _load_period(user, pk):
    from django.http import Http404

    from xiaoneng.appraisal import scope

    period = scope.office_periods(user).select_related("scheme__organ_class__region").filter(pk=pk).first()
    if period is None:
        raise Http404
    return period


def _may_issue(user, period) -> bool:
    from xiaoneng.appraisal import scope

    return scope.may_appraise(user, period)


SUBJECTS["appraisal"] = Subject(load=_load_period, may_issue=_may_issue,
                                url=lambda period: reverse("appraisal:board", args=[period.pk]))


def _year_periods(period):
    """Every period in force of the same region and year (one per class), the class's region being the period's."""
    from xiaoneng.appraisal.models import Period, SchemeStatus

    return list(Period.objects.filter(scheme__organ_class__region_code=period.scheme.organ_class.region_code,
                                      scheme__year=period.scheme.year, scheme__status=SchemeStatus.ACTIVE)
                .select_related("scheme__organ_class").order_by("scheme__organ_class__name", "pk"))


def _office(region):
    from xiaoneng.orgs.models import Organ

    return Organ.objects.filter(region_code=region.prefix, short_name=rule("appraisal_office_short_name"),
                                is_active=True).first()


@register
class YearlyReport(DocumentKind):
    code = CODE
    title = gettext_lazy("年度绩效考评情况通报")
    word = "考"
    subject_type = "appraisal"
    perms = ("appraise", "supervise", "appraisal.published")
    legal_basis = gettext_lazy("本地区机关绩效考评办法")

    def applies(self, period) -> bool:
        from xiaoneng.appraisal.models import PeriodStatus

        periods = _year_periods(period)
        return bool(periods) and all(p.status == PeriodStatus.PUBLISHED for p in periods)

    def subject_key(self, period) -> str:
        return f"appraisal-year:{period.scheme.organ_class.region_code}:{period.scheme.year}"

    def subject_label(self, period) -> str:
        return _("%(region)s%(year)s年度绩效考评") % {"region": period.scheme.organ_class.region.name,
                                                  "year": period.scheme.year}

    def organ(self, period):
        """The office where there is one; else an organ of the region itself, so the report sits in the
        region's scope; else the first organ appraised."""
        from xiaoneng.orgs.models import Organ

        region = period.scheme.organ_class.region
        return (_office(region) or Organ.objects.filter(region_code=region.prefix).order_by("pk").first()
                or period.scheme.organ_class.organs.order_by("pk").first())

    def issuer(self, period) -> Issuer:
        region = period.scheme.organ_class.region
        office = _office(region)
        if office is not None:
            return Issuer(key=f"organ:{office.pk}", name=office.name, short=f"{region.name}{office.short_name}")
        return Issuer(key=f"appraisal:{region.prefix}", name=rule("appraisal_office_name").format(region=region.name),
                      short=f"{region.name}{rule('appraisal_office_short_name')}")

    def content(self, period) -> Content:
        from xiaoneng.appraisal.charts import top_scores
        from xiaoneng.appraisal.models import Grade, Objection, ObjectionStatus

        periods = _year_periods(period)
        region, year = period.scheme.organ_class.region, period.scheme.year
        tables, organs, decided = [], 0, {ObjectionStatus.UPHELD: 0, ObjectionStatus.REJECTED: 0}
        grade_words = []
        for p in periods:
            cls = p.scheme.organ_class.name
            results = list(p.results.select_related("organ").order_by("rank", "organ__name"))
            organs += len(results)
            tables.append({"caption": _("%(cls)s：排名与等次") % {"cls": cls},
                           "headers": [_("排名"), _("机关"), _("总分"), _("等次")],
                           "rows": [[r.rank, r.organ.name, str(r.total), str(r.get_grade_display())] for r in results]})
            counts = {g: sum(1 for r in results if r.grade == g) for g in Grade.values}
            grade_words.append(_("%(cls)s %(n)d 个机关，其中%(parts)s") % {
                "cls": cls, "n": len(results),
                "parts": "、".join(f"{label} {counts[g]} 个" for g, label in Grade.choices)})
            tops, scores = top_scores(p)
            if tops and scores:
                rows = []
                for t in tops:
                    values = [per[t.pk] for per in scores.values()]
                    rows.append([f"{t.code} {t.name}", str(t.weight.normalize()),
                                 f"{sum(values) / len(values):.2f}", str(max(values)), str(min(values))])
                tables.append({"caption": _("%(cls)s：一级指标得分情况") % {"cls": cls},
                               "headers": [_("指标"), _("权重"), _("类别平均"), _("最高"), _("最低")], "rows": rows})
            objections = list(Objection.objects.filter(result__period=p).exclude(status=ObjectionStatus.PENDING)
                              .select_related("result__organ", "line__indicator").order_by("submitted_at", "pk"))
            for o in objections:
                decided[o.status] += 1
            if objections:
                tables.append({"caption": _("%(cls)s：异议处理情况") % {"cls": cls},
                               "headers": [_("机关"), _("异议指标"), _("决定"), _("决定理由")],
                               "rows": [[o.result.organ.name, str(o.line.indicator) if o.line else _("（总体）"),
                                         str(o.get_status_display()), o.reasons] for o in objections]})
        first = _("根据%(basis)s，%(region)s%(year)s年度机关绩效考评工作已完成，考评结果经预告、异议处理后已公布。"
                  "现将考评情况通报如下。") % {"basis": self.legal_basis, "region": region.name, "year": year}
        summary = _("本年度共 %(c)d 个考评类别、%(n)d 个机关参加考评。") % {"c": len(periods), "n": organs}
        objection_words = _("考评结果预告期间，共受理异议 %(all)d 件，其中成立 %(up)d 件、不成立 %(no)d 件，均已书面答复。") % {
            "all": sum(decided.values()), "up": decided[ObjectionStatus.UPHELD], "no": decided[ObjectionStatus.REJECTED]}
        published = max((p.published_at for p in periods if p.published_at), default=None)
        facts = [(_("考评年度"), str(year)), (_("考评类别"), "、".join(p.scheme.organ_class.name for p in periods)),
                 (_("参评机关数"), str(organs))]
        if published:
            facts.append((_("结果公布时间"), _day(published)))
        return Content(addressee=_("各参评机关"), paragraphs=[first, summary], items=grade_words,
                       closing=[objection_words], facts=facts, tables=tables)


def report_documents(user, period) -> dict:
    """For the board: the yearly report issued for the period's region and year, and whether the user may issue it."""
    from xiaoneng.documents.models import Document
    from xiaoneng.documents.views import readable_by

    kind = KINDS[CODE]
    on_year = Document.objects.filter(kind=CODE, subject_key=kind.subject_key(period))
    docs = list(readable_by(user, on_year, kind.perms))
    issuable = not on_year.exists() and _may_issue(user, period) and kind.applies(period)
    return {"report_docs": docs, "report_issuable": issuable, "report_kind": CODE}

