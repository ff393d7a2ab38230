"""The public 问责通报 page (no login), under the portal at /public/accountability/.

Only decisions announced to the public at large appear (`Case.announcement_public`, set when the
decision is announced; an internal scope never reaches here), and only what such an announcement
says — the same words as the 通报 document: the organ, the facts, each person's responsibility and
measure. No rank, no statement, no appeal, no internal working. Persons are named as the rule
`accountability_public_mask_names` says (张某 by default, the documents' own masking), in the title
and the facts too; organs keep their names.

A decision revoked on review or appeal disappears from its notice, and in its place the page shows
that the decision was revoked and the person's name cleared, in the same public scope the decision
was announced in (政务处分法第六十条); a person cleared is always masked. When every measure of a
case was revoked, only the clearing remains. Records are addressed by the case number (random, so
it tells nothing of how many cases there are); anything else — an unknown number, an internal or
unannounced case — is the public 404.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from xiaoneng.conf import rule
from xiaoneng.documents.kinds.accountability import measure_text, scrub, shown_names

from .models import Appeal, Case, Party, Status

PUBLIC_STATES = (Status.ANNOUNCED, Status.FILED)
PER_PAGE = 20


@dataclass
class Item:
    name: str
    responsibility: str
    measure: str


@dataclass
class Clearing:
    name: str
    on: date
    text: str


@dataclass
class Notice:
    number: str
    decision_number: str
    deciding_organ: str
    organ: str
    title: str
    findings: str
    announced_on: date
    items: list[Item] = field(default_factory=list)
    clearings: list[Clearing] = field(default_factory=list)

    @property
    def revoked_entirely(self) -> bool:
        return not self.items


def public_cases():
    return (Case.objects.filter(announcement_public=True, announced_at__isnull=False, status__in=PUBLIC_STATES)
            .select_related("organ", "deciding_organ")
            .prefetch_related(Prefetch("parties", queryset=Party.objects.order_by("pk").prefetch_related(
                Prefetch("appeals", queryset=Appeal.objects.filter(outcome=Appeal.Outcome.REVOKED))))))


def notice(case: Case) -> Notice:
    """What the public may read of one case (its parties and their revoking appeals prefetched)."""
    parties = list(case.parties.all())
    cleared = {p.pk for p in parties if p.revoked_on}
    shown = shown_names(parties, bool(rule("accountability_public_mask_names")), always_masked=cleared)
    n = Notice(number=case.number, decision_number=case.decision_number, deciding_organ=case.deciding_organ.name,
               organ=case.organ.name, title=scrub(case.title, shown), findings=scrub((case.findings or "").strip(), shown),
               announced_on=timezone.localdate(case.announced_at))
    for p in parties:
        if not p.measure:
            continue
        if p.revoked_on:
            revoking = next(iter(p.appeals.all()), None)
            how = revoking.get_kind_display() if revoking is not None else _("复核或申诉")
            n.clearings.append(Clearing(shown[p.name], p.revoked_on, _(
                "经%(how)s，%(organ)s于%(day)s撤销对%(name)s的问责决定（%(no)s），在原公布范围内为其恢复名誉、消除影响"
                "（《中华人民共和国公职人员政务处分法》第六十条）。") % {
                "how": how, "organ": case.deciding_organ.name, "day": _("%(y)d年%(m)d月%(d)d日") % {
                    "y": p.revoked_on.year, "m": p.revoked_on.month, "d": p.revoked_on.day},
                "name": shown[p.name], "no": case.decision_number}))
        else:
            n.items.append(Item(shown[p.name], str(p.get_responsibility_display()), measure_text(p.measure, p.months)))
    return n


@require_GET
def bulletin_list(request):
    page = Paginator(public_cases().order_by("-announced_at", "-pk"), PER_PAGE).get_page(request.GET.get("page"))
    notices = [notice(case) for case in page.object_list]
    return render(request, "accountability/public/list.html", {"page": page, "notices": notices})


@require_GET
def bulletin_detail(request, number: str):
    case = public_cases().filter(number=number).first()
    if case is None:
        raise Http404
    return render(request, "accountability/public/detail.html", {"notice": notice(case)})
