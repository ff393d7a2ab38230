"""The documents of an accountability case (问责案件): the notice of the intended decision to each
person (告知书), the decision (决定书) and the filing report to the supervisory organ (备案报告).

They are personnel documents: read with "accountability.view" in the case's scope only, issued
by whoever may act on the case, in the name of the deciding organ (问责机关). The 决定书 carries
the number the decision was signed under, not a new one.
"""
from datetime import timedelta

from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import SUBJECTS, Content, DocumentKind, Issuer, Subject, register
from .approvals import _day


def _load_case(user, pk):
    from django.http import Http404

    from xiaoneng.accountability.models import Case
    from xiaoneng.accountability.views import visible

    case = visible(Case.objects.select_related("organ", "deciding_organ"), user).filter(pk=pk).first()
    if case is None:
        raise Http404
    return case


def _may_issue(user, case) -> bool:
    from xiaoneng.accountability.views import may_manage

    return may_manage(user, case)


SUBJECTS["accountability"] = Subject(load=_load_case, may_issue=_may_issue,
                                     url=lambda case: reverse("accountability:case", args=[case.pk]))


def _measure(code: str, months: int | None = None) -> str:
    from xiaoneng.accountability import measures as M

    try:
        measure = M.get(code)
    except KeyError:  # a province measure since removed from the configuration
        return code
    label = str(measure.label)
    months = months if months is not None else measure.months
    if months:
        label += _("（处分期%(n)d个月）") % {"n": months}
    return label


def _basis(code: str) -> str:
    from xiaoneng.accountability import measures as M

    try:
        return str(M.get(code).legal_basis) or _("有关规定")
    except KeyError:
        return _("有关规定")


def _date(day) -> str:
    return _("%(y)d年%(m)d月%(d)d日") % {"y": day.year, "m": day.month, "d": day.day}


def _findings(case) -> str:
    return (case.findings or "").strip().rstrip("。.；;") or case.title


class AccountabilityKind(DocumentKind):
    subject_type = "accountability"
    perms = ("accountability.view",)

    def subject_label(self, case) -> str:
        return _("问责案件 %(no)s（%(title)s）") % {"no": case.number, "title": case.title}

    def issuer(self, case) -> Issuer:
        organ = case.deciding_organ
        return Issuer(key=f"organ:{organ.pk}", name=organ.name, short=organ.short_name or organ.name)

    def _facts(self, case) -> list[tuple[str, str]]:
        return [(_("案件编号"), case.number), (_("案由"), case.title), (_("涉及机关"), case.organ.name),
                (_("立案时间"), _day(case.registered_at))]

    def _decided_parties(self, case):
        return [p for p in case.parties.order_by("pk") if p.measure]


@register
class IntentNotice(AccountabilityKind):
    """告知书: one per person, once the intended measure was notified (政务处分法第四十三条)."""

    code = "acct.notice"
    title = gettext_lazy("问责告知书")
    word = "问告"
    legal_basis = gettext_lazy("《中华人民共和国公职人员政务处分法》第四十三条、《中国共产党问责条例》第十三条")

    def _pending(self, case):
        """The first notified person whose notice is not issued yet."""
        from xiaoneng.documents.models import Document

        done = set(Document.objects.filter(kind=self.code, subject_key__startswith=f"accountability:{case.pk}:notice:")
                   .values_list("subject_key", flat=True))
        for party in case.parties.filter(notified_at__isnull=False).order_by("pk"):
            if f"accountability:{case.pk}:notice:{party.pk}" not in done:
                return party
        return None

    def applies(self, case) -> bool:
        return self._pending(case) is not None

    def subject_key(self, case) -> str:
        party = self._pending(case)
        return f"accountability:{case.pk}:notice:{party.pk if party else 0}"

    def subject_label(self, case) -> str:
        party = self._pending(case)
        return _("问责案件 %(no)s 告知 %(name)s") % {"no": case.number, "name": party.name if party else ""}

    def content(self, case) -> Content:
        party = self._pending(case)
        first = _("经调查，%(findings)s。你在该事项中负有%(resp)s。") % {
            "findings": _findings(case), "resp": party.get_responsibility_display()}
        intent = _("根据%(basis)s，本机关拟对你给予%(measure)s的处理。") % {
            "basis": _basis(party.notified_measure), "measure": _measure(party.notified_measure, party.notified_months)}
        right = _("根据《中华人民共和国公职人员政务处分法》第四十三条的规定，你有权进行陈述和申辩。请于收到本告知书之日起"
                  "五个工作日内向本机关书面提出；逾期未提出的，视为放弃陈述和申辩。本机关不因你的陈述和申辩而加重处理。")
        facts = self._facts(case)
        facts += [(_("告知对象"), party.name), (_("职务职级"), party.rank or "—"),
                  (_("拟问责方式"), _measure(party.notified_measure, party.notified_months)),
                  (_("告知时间"), _day(party.notified_at))]
        return Content(addressee=party.name, paragraphs=[first, intent, right], facts=facts)


@register
class Decision(AccountabilityKind):
    """决定书: the decision as signed, each person's measure and period, and how to appeal."""

    code = "acct.decision"
    title = gettext_lazy("问责决定书")
    word = "问决"
    legal_basis = gettext_lazy("《中国共产党问责条例》、《中华人民共和国公职人员政务处分法》、《中华人民共和国公务员法》第九十五条")

    def applies(self, case) -> bool:
        from xiaoneng.accountability.queries import DECIDED_STATES

        return case.status in DECIDED_STATES and bool(case.decision_number)

    def preset_number(self, case) -> str:
        return case.decision_number

    def content(self, case) -> Content:
        parties = self._decided_parties(case)
        first = _("经调查，%(findings)s。本机关已依法告知拟作出的问责决定，并听取了当事人的陈述和申辩（或记录其放弃）。"
                  "经集体研究，决定如下：") % {"findings": _findings(case)}
        items = []
        for p in parties:
            period = ""
            if p.ends_on:
                # ends_on is the first day out of the period: the last day in it is the day before.
                period = _("，自%(a)s起至%(b)s止") % {"a": _date(p.starts_on), "b": _date(p.ends_on - timedelta(days=1))}
            lighter = _("（经容错纠错审查从轻）") if p.tolerance_outcome == "lighter" else ""
            items.append(_("%(name)s（%(rank)s，%(resp)s）：给予%(measure)s%(period)s%(lighter)s。依据：%(basis)s。") % {
                "name": p.name, "rank": p.rank or (p.organ.name if p.organ_id and not p.staff_id else "—"),
                "resp": p.get_responsibility_display(), "measure": _measure(p.measure, p.months), "period": period,
                "lighter": lighter, "basis": _basis(p.measure)})
        closing = [_("如不服本决定，可以自收到本决定之日起三十日内向本机关申请复核；对复核决定仍不服的，可以自接到复核决定之日起"
                     "十五日内向同级公务员主管部门或者作出决定的机关的上一级机关提出申诉，也可以不经复核，自知道该决定之日起"
                     "三十日内直接提出申诉（《中华人民共和国公务员法》第九十五条）。复核、申诉期间不停止本决定的执行。")]
        facts = self._facts(case)
        facts += [(_("决定人"), case.decider), (_("决定时间"), _day(case.decided_at))]
        return Content(addressee="、".join(p.name for p in parties), paragraphs=[first], items=items, closing=closing,
                       facts=facts)


@register
class FilingReport(AccountabilityKind):
    """备案报告: once the decision was served, one to each organ the decision is filed with — the
    same-level supervisory organ, and the level above where a decided measure's rule requires it
    (`accountability_filing_above`), issued in turn like the notices."""

    code = "acct.filing"
    title = gettext_lazy("问责决定备案报告")
    word = "问备"
    legal_basis = gettext_lazy("问责决定报送同级监察部门备案的有关规定")

    @staticmethod
    def _key(case, filing) -> str:
        # The same-level report keeps the key it had when it was the only one.
        if filing is None or filing.level == "same":
            return f"accountability:{case.pk}"
        return f"accountability:{case.pk}:filing:{filing.level}"

    def _pending(self, case):
        """The first filing whose report is not issued yet (None when all are)."""
        from xiaoneng.documents.models import Document

        done = set(Document.objects.filter(kind=self.code, subject_key__startswith=f"accountability:{case.pk}")
                   .values_list("subject_key", flat=True))
        for filing in case.filings.select_related("clock").order_by("pk"):
            if self._key(case, filing) not in done:
                return filing
        return None

    def applies(self, case) -> bool:
        from xiaoneng.accountability.models import Status

        return case.status in (Status.SERVED, Status.ANNOUNCED, Status.FILED) and self._pending(case) is not None

    def subject_key(self, case) -> str:
        return self._key(case, self._pending(case))

    def subject_label(self, case) -> str:
        filing = self._pending(case)
        label = super().subject_label(case)
        return f"{label} · {filing.get_level_display()}" if filing is not None else label

    def content(self, case) -> Content:
        from xiaoneng.accountability.models import FilingLevel, Tolerance

        filing = self._pending(case)
        parties = list(case.parties.order_by("pk"))
        first = _("本机关于%(reg)s对%(organ)s“%(title)s”问题立案调查，于%(dec)s作出问责决定（%(no)s），"
                  "于%(served)s送达当事人。现将有关情况报告如下：") % {
            "reg": _day(case.registered_at), "organ": case.organ.name, "title": case.title,
            "dec": _day(case.decided_at), "no": case.decision_number, "served": _day(case.served_at)}
        paragraphs = [first]
        if filing is not None and filing.level == FilingLevel.ABOVE:
            paragraphs.insert(0, _("根据有关规定，%(why)s，本决定除报送同级监察部门备案外，报上一级机关备案。") % {
                "why": filing.reasons or _("所作问责决定须报上一级备案")})
        items = [_("调查认定的事实：%(f)s。") % {"f": _findings(case)}]
        for p in parties:
            heard = _("已放弃陈述申辩") if p.hearing_waived else _("已陈述申辩")
            tolerance = (Tolerance(p.tolerance_outcome).label if p.tolerance_outcome else Tolerance.NONE.label)
            decided = _measure(p.measure, p.months) if p.measure else _("不予问责")
            items.append(_("%(name)s（%(resp)s）：拟%(notified)s，%(heard)s，容错审查结论为%(tol)s，决定%(decided)s。") % {
                "name": p.name, "resp": p.get_responsibility_display(),
                "notified": _measure(p.notified_measure, p.notified_months) if p.notified_measure else "—",
                "heard": heard, "tol": tolerance, "decided": decided})
        if case.announced_at:
            items.append(_("已于%(day)s在%(scope)s范围内公布。") % {"day": _day(case.announced_at),
                                                             "scope": case.announcement_scope})
        closing = [_("特此报告。"), _("附件：问责决定书（%(no)s）") % {"no": case.decision_number}]
        facts = self._facts(case)
        facts += [(_("决定书文号"), case.decision_number), (_("决定时间"), _day(case.decided_at)),
                  (_("送达时间"), _day(case.served_at))]
        clock = filing.clock if filing is not None and filing.clock_id else (case.filing_clock if case.filing_clock_id else None)
        if clock is not None:
            from xiaoneng.clocks.explain import deadline_label

            facts.append((_("备案期限"), deadline_label(clock.due_at)))
        if filing is not None:
            facts.append((_("备案层级"), str(filing.get_level_display())))
        addressee = (filing.filed_with if filing is not None else case.filed_with) or _default_filed_with(case, filing)
        return Content(addressee=addressee, paragraphs=paragraphs, items=items, closing=closing, facts=facts)


def _default_filed_with(case, filing) -> str:
    """The supervisory commission of the case's region, or of the region above for the level above."""
    from xiaoneng.orgs.models import Region

    region = Region.objects.filter(prefix=case.region_code).select_related("parent").first()
    if filing is not None and filing.level == "above":
        if region is not None and region.parent_id:
            return _("%(region)s监察委员会") % {"region": region.parent.name}
        return _("上一级机关")
    return _("%(region)s监察委员会") % {"region": region.name if region else case.region_code}


def masked(name: str) -> str:
    """张三 → 张某: the surname kept, the given name hidden (a four-character name keeps two: 欧阳明华 → 欧阳某)."""
    name = name.strip()
    if len(name) <= 1:
        return name
    surname = name[:2] if len(name) >= 4 else name[:1]
    return f"{surname}某"


def shown_names(parties, hide: bool, always_masked=()) -> dict[str, str]:
    """Each party's name as an announcement may print it: persons masked when `hide` (and those in
    `always_masked` — e.g. whose decision was revoked — in any case); organs keep their names."""
    return {p.name: (masked(p.name) if p.staff_id and (hide or p.pk in always_masked) else p.name) for p in parties}


def scrub(text: str, shown: dict[str, str]) -> str:
    """`text` with every real name replaced by its shown form, longest first (张三丰 before 张三)."""
    for real, public in sorted(shown.items(), key=lambda kv: -len(kv[0])):
        if real != public:
            text = text.replace(real, public)
    return text


def measure_text(code: str, months: int | None = None) -> str:
    """A measure in words with its period, as the documents print it."""
    return _measure(code, months)


@register
class Bulletin(AccountabilityKind):
    """问责情况通报: the public announcement within the chosen scope. Persons are named as the
    `accountability_bulletin_mask_names` rule says (masked by default), in the findings too;
    organs keep their names."""

    code = "acct.bulletin"
    title = gettext_lazy("问责情况通报")
    word = "问通"
    legal_basis = gettext_lazy("《中国共产党问责条例》第十四条")

    def applies(self, case) -> bool:
        return case.announced_at is not None

    def content(self, case) -> Content:
        from xiaoneng.conf import rule

        parties = self._decided_parties(case)
        shown = shown_names(case.parties.all(), bool(rule("accountability_bulletin_mask_names")))
        first = scrub(_("经调查，%(organ)s存在以下问题：%(findings)s。") % {"organ": case.organ.name, "findings": _findings(case)}, shown)
        second = _("根据有关规定，经%(decider)s研究，决定对相关责任人作出如下处理：") % {"decider": case.deciding_organ.name}
        items = [_("%(name)s（%(resp)s）：%(measure)s。") % {"name": shown[p.name], "resp": p.get_responsibility_display(),
                                                           "measure": _measure(p.measure, p.months)} for p in parties]
        closing = [_("各单位要引以为戒，严格落实办理时限和服务承诺，切实改进工作作风。")]
        facts = [(_("决定书文号"), case.decision_number), (_("公布范围"), case.announcement_scope),
                 (_("公布时间"), _day(case.announced_at))]
        return Content(addressee=case.announcement_scope, paragraphs=[first, second], items=items, closing=closing,
                       facts=facts)


# --- the periodic report to the government ----------------------------------------------------------
def report_office(region_code: str):
    """The efficiency office organ of a region (short name `complaint_office_short_name`), which acts as
    the supervisory organ (监察部门) of this platform and issues the report; None if the region has none."""
    from xiaoneng.conf import rule
    from xiaoneng.orgs.models import Organ

    return (Organ.objects.filter(region_code=region_code, short_name=rule("complaint_office_short_name"), is_active=True)
            .order_by("pk").first())


def _load_report(user, pk):
    from django.http import Http404

    from xiaoneng.accountability.models import PeriodicReport
    from xiaoneng.orgs import access

    row = access.scoped(PeriodicReport.objects.select_related("region"), user, "accountability.view").filter(pk=pk).first()
    if row is None:
        raise Http404
    return row


def _may_issue_report(user, row) -> bool:
    from xiaoneng.accountability.models import PeriodicReport
    from xiaoneng.orgs import access

    return access.scoped(PeriodicReport.objects.filter(pk=row.pk), user, "accountability.manage").exists()


def _report_url(row) -> str:
    from urllib.parse import urlencode

    period = f"{row.year}-Q{row.quarter}" if row.quarter else str(row.year)
    return reverse("accountability:report") + "?" + urlencode({"region": row.region.code, "period": period})


SUBJECTS["acct_report"] = Subject(load=_load_report, may_issue=_may_issue_report, url=_report_url)


def _n(x) -> str:
    return "—" if x is None else f"{x:g}"


def _p(x) -> str:
    return "—" if x is None else f"{x * 100:.1f}%"


def _listed(rows, unit: str) -> str:
    return "、".join(f"{label}{value}{unit}" for label, value in rows) or _("无")


@register
class PeriodReport(DocumentKind):
    """问责工作情况报告: the efficiency office (as the supervisory organ) reports a quarter's or a year's
    accountability work to the region's government, with the comparison to the period before. Written
    from the figures kept on the report row when it was issued."""

    code = "acct.report"
    title = gettext_lazy("关于问责工作情况的报告")
    word = "问报"
    subject_type = "acct_report"
    perms = ("accountability.view",)
    legal_basis = gettext_lazy("监察部门定期向本级人民政府报告问责工作情况的有关规定")

    def applies(self, row) -> bool:
        return bool(row.figures)

    def subject_label(self, row) -> str:
        f = row.figures
        return _("%(region)s%(period)s问责工作情况") % {"region": f.get("region_name", ""), "period": f.get("period_label", "")}

    def organ(self, row):
        from xiaoneng.documents.actions import DocumentError

        office = report_office(row.region_code)
        if office is None:
            raise DocumentError(_("本区划未登记效能办，不能制发问责工作情况报告。"))
        return office

    def issuer(self, row) -> Issuer:
        from .supervision import office_of

        return office_of(row.region_code)

    def content(self, row) -> Content:
        f = row.figures
        cur, prev, t = f["current"], f["previous"], f["tables"]
        first = _("现将%(region)s%(period)s效能问责工作情况报告如下（数据截至%(day)s）：") % {
            "region": f["region_name"], "period": f["period_label"], "day": _date(row.issued_at.date())}
        items = [
            _("基本情况。本期立案%(reg)d件（上期%(preg)d件），作出问责决定%(dec)d件（上期%(pdec)d件），经容错纠错等不予问责结案"
              "%(closed)d件，受到问责%(persons)d人（上期%(ppersons)d人）。") % {
                "reg": cur["registered"], "preg": prev["registered"], "dec": cur["decided"], "pdec": prev["decided"],
                "closed": cur["closed"], "persons": cur["persons"], "ppersons": prev["persons"]},
            _("问责来源。本期立案按来源：%(reg)s；作出决定及结案按来源：%(dec)s。") % {
                "reg": _listed(t["registered_source"], _("件")), "dec": _listed(t["decided_source"], _("件"))},
            _("问责方式。%(m)s。") % {"m": _listed(t["measure"], _("人"))},
            _("备案情况。应备案%(due)d件次，逾期备案%(late)d件次（上期%(pdue)d件次、逾期%(plate)d件次）。") % {
                "due": cur["filings_due"], "late": cur["filings_late"], "pdue": prev["filings_due"],
                "plate": prev["filings_late"]},
            _("复核申诉。本期受理%(rec)d件，办结%(dec)d件，其中维持%(up)d件、变更%(ch)d件、撤销%(rev)d件；本期所作决定的"
              "复核申诉改变率为%(rate)s。") % {
                "rec": cur["appeals_received"], "dec": cur["appeals_decided"], "up": cur["appeals_upheld"],
                "ch": cur["appeals_changed"], "rev": cur["appeals_revoked"], "rate": _p(cur["reversal_rate"])},
            _("容错纠错。申请容错纠错%(n)d人：%(rows)s。") % {"n": cur["tolerance_applied"],
                                                      "rows": _listed(t["tolerance"], _("人"))},
            _("工作质量。每起事件问责%(per)s人，从提出线索到作出决定平均%(days)s天，依据兜底条款作出决定的比例为%(share)s"
              "（上期分别为%(pper)s人、%(pdays)s天、%(pshare)s）。") % {
                "per": _n(cur["per_incident"]), "days": _n(cur["avg_days"]), "share": _p(cur["catch_all_share"]),
                "pper": _n(prev["per_incident"]), "pdays": _n(prev["avg_days"]), "pshare": _p(prev["catch_all_share"])},
        ]
        closing = [_("特此报告。")]
        facts = [(_("报告期"), f["period_label"]), (_("比较期"), f["previous_label"])]
        facts += [(label, _("本期%(a)s，上期%(b)s，增减%(c)s") % {"a": a, "b": b, "c": c})
                  for label, a, b, c in f["comparison"]]
        return Content(addressee=_("%(region)s人民政府") % {"region": f["region_name"]}, paragraphs=[first],
                       items=items, closing=closing, facts=facts)
