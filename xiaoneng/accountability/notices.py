"""In-platform notifications to the persons concerned by an accountability case.

At each moment that changes a person's position — the notice of the intended measure (告知),
the decision, its service (送达), the outcome of a 复核 / 申诉 and a revocation — the person is
told, if their staff record is linked to a user account, and so are the leaders of their organ
(for an organ held accountable: its leaders only). The notification goes through the inbox
(`inbox.actions.notify_after_commit`): after the action committed, never for something rolled
back, and at most once per event and recipient (`dedup_key`).

The person's note and their leaders' note share one key per event and party, so a person who is
also a leader of their own organ is told once, in their own words, not a second time as leader.
Links are left out: neither the person nor their leader may open accountability records.
"""
from __future__ import annotations

from django.utils.translation import gettext as _

from xiaoneng.inbox.actions import Note, notify_after_commit
from xiaoneng.inbox.models import Kind
from xiaoneng.orgs.models import Role

from . import measures as M


def _label(code: str) -> str:
    try:
        return str(M.get(code).label) if code else ""
    except KeyError:  # a province measure since removed from the configuration
        return code


def _months(months) -> str:
    return _("（%(n)d 个月）") % {"n": months} if months else ""


def _notes(party, event: str, title: str, own: str, theirs: str) -> list[Note]:
    """The person's note (their own words) and their organ leaders' note, one key for both."""
    case = party.case
    key = f"acct:{event}:{party.pk}"
    tail = _("问责机关：%(organ)s。") % {"organ": case.deciding_organ.name}
    notes = []
    staff = party.staff
    if staff is not None and staff.user_id:
        notes.append(Note(kind=Kind.ACCOUNTABILITY, title=title, body=f"{own}{tail}", key=key, users=[staff.user]))
    organ_id = staff.organ_id if staff is not None else party.organ_id
    notes.append(Note(kind=Kind.ACCOUNTABILITY, title=title, body=f"{theirs}{tail}", key=key, organ_id=organ_id,
                      roles=(Role.LEADER,)))
    return notes


def _who(party) -> str:
    """How the leader's note names the person (or the organ) concerned."""
    if party.staff_id:
        return _("本机关工作人员 %(name)s") % {"name": party.name}
    return _("本机关（%(name)s）") % {"name": party.name}


def notified(party) -> None:
    """告知: the intended measure and the right to a statement and defence."""
    measure = f"“{_label(party.notified_measure)}”{_months(party.notified_months)}"
    title = _("问责告知：%(title)s") % {"title": party.case.title[:100]}
    right = _("可在作出决定前进行陈述和申辩，不因申辩而加重问责（政务处分法第四十三条）。")
    notify_after_commit(_notes(
        party, "notice", title,
        _("拟对您给予%(m)s。") % {"m": measure} + right,
        _("%(who)s 被告知拟给予%(m)s。") % {"who": _who(party), "m": measure}))


def decided(case, parties) -> None:
    """The decision, for every person concerned: their measure and period, or that they were spared."""
    notes = []
    title = _("问责决定：%(no)s") % {"no": case.decision_number}
    for party in parties:
        if party.measure:
            period = ""
            if party.ends_on:
                period = _("，期间 %(a)s 至 %(b)s") % {"a": party.starts_on.isoformat(), "b": party.ends_on.isoformat()}
            what = _("给予“%(m)s”%(period)s") % {"m": _label(party.measure), "period": period}
        else:
            what = _("经容错纠错审查，不予问责")
        notes += _notes(party, "decision", title, _("对您的问责决定：%(what)s。") % {"what": what},
                        _("%(who)s 的问责决定：%(what)s。") % {"who": _who(party), "what": what})
    notify_after_commit(notes)


def served(case, parties) -> None:
    """Service (送达) starts the time to ask for a review (复核)."""
    title = _("问责决定已送达：%(no)s") % {"no": case.decision_number}
    notes = []
    for party in parties:
        if not party.measure:
            continue
        notes += _notes(party, "service", title,
                        _("问责决定（%(m)s）已送达；不服的，可自送达之日起依法申请复核或申诉，复核申诉期间不停止执行。")
                        % {"m": _label(party.measure)},
                        _("%(who)s 的问责决定（%(m)s）已送达。") % {"who": _who(party), "m": _label(party.measure)})
    notify_after_commit(notes)


def appeal_decided(appeal, party) -> None:
    """A 复核 / 申诉 decided: upheld, changed to a lighter measure, or revoked (its own title)."""
    kind = appeal.get_kind_display()
    if appeal.outcome == "revoked":
        title = _("问责决定已撤销：%(title)s") % {"title": party.case.title[:100]}
        what = _("经%(kind)s，原问责决定撤销，自 %(d)s 起不再执行") % {"kind": kind, "d": party.revoked_on.isoformat()}
        if party.case.announcement_scope:
            what += _("，并在原公布范围内恢复名誉、消除影响")
    elif appeal.outcome == "changed":
        title = _("%(kind)s结果：变更") % {"kind": kind}
        what = _("经%(kind)s，问责方式变更为“%(m)s”%(months)s") % {
            "kind": kind, "m": _label(appeal.new_measure), "months": _months(appeal.new_months)}
    else:
        title = _("%(kind)s结果：维持") % {"kind": kind}
        what = _("经%(kind)s，维持原问责决定") % {"kind": kind}
    notify_after_commit(_notes(party, f"appeal:{appeal.pk}", title, what + "。",
                               _("%(who)s：%(what)s。") % {"who": _who(party), "what": what}))
