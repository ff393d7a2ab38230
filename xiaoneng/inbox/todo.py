"""What waits for a user (待办), computed set-wise: per section one COUNT and one short list.

Each section is a queryset scoped through `xiaoneng.orgs.access` with the permission that
lets the user act on it (default deny: without it the section is absent and costs no
query). A section costs two queries whatever it holds — the count and the first
`SHOWN` rows, nearest deadline first, with what the row shows joined in — so the whole
inbox is at most 2 × the number of sections the user has, and the header badge (counts
only) one per section.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Case as When_
from django.db.models import F, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xiaoneng.clocks.explain import deadline_label
from xiaoneng.orgs import access

SHOWN = 10


@dataclass
class Item:
    title: str
    link: str
    due: object = None
    meta: str = ""

    @property
    def due_label(self) -> str:
        return deadline_label(self.due) if self.due else ""


@dataclass
class Section:
    key: str
    title: str
    perm: str
    more: str  # the full list
    count: int = 0
    items: list[Item] = field(default_factory=list)


def _cases(user):
    from xiaoneng.approvals.models import Case, Status

    due = When_(
        # before acceptance the Art. 32 correction deadline; once it is stopped (corrected) the decision ones
        When(status=Status.SUBMITTED, then=F("correction_clock__due_at")),
        When(status=Status.DECIDED, then=F("certificate_clock__due_at")),
        default=Coalesce("promise_clock__due_at", "legal_clock__due_at"),
    )
    qs = access.scoped(Case.objects.filter(
        status__in=[Status.SUBMITTED, Status.CORRECTED, Status.ACCEPTED, Status.DECIDED, Status.CERTIFIED]),
        user, "handle")
    return qs.annotate(due=due), ("due", "received_at", "pk"), lambda c: Item(
        f"{c.case_no} · {c.matter_version.matter.name}", reverse("approvals:case", args=[c.pk]), c.due,
        f"{c.get_status_display()} · {c.applicant_name}"), ("matter_version__matter",)


def _alerts(status_list, perm):
    def build(user):
        from xiaoneng.supervision.models import Alert

        qs = access.scoped(Alert.objects.filter(status__in=status_list), user, perm).annotate(due=F("clock__due_at"))
        return qs, ("raised_at", "pk"), lambda a: Item(
            f"{a.get_level_display()} · {a.subject_label or a.rule}", reverse("supervision:alert", args=[a.pk]), None,
            f"{a.organ.name} · {a.get_status_display()}"), ("organ",)
    return build


def _orders(status, perm):
    def build(user):
        from xiaoneng.supervision.models import SupervisionOrder

        qs = access.scoped(SupervisionOrder.objects.filter(status=status), user, perm).annotate(due=F("clock__due_at"))
        return qs, ("due", "pk"), lambda o: Item(
            f"{o.number} · {o.title}", reverse("supervision:order", args=[o.pk]), o.due,
            f"{o.organ.name} · {o.get_status_display()}"), ("organ",)
    return build


def _complaints(status_list, perm, clock="handling_clock"):
    def build(user):
        from xiaoneng.complaints.models import Complaint

        qs = access.scoped(Complaint.objects.filter(status__in=status_list), user, perm).annotate(
            due=Coalesce(f"{clock}__due_at", "acceptance_clock__due_at"))
        return qs, ("due", "pk"), lambda c: Item(
            f"{c.number} · {c.title}", reverse("complaints:detail", args=[c.pk]), c.due,
            str(c.get_status_display())), ()
    return build


def _complaint_extensions(user):
    from xiaoneng.complaints.models import ExtensionRequest

    qs = access.scoped(ExtensionRequest.objects.filter(approved__isnull=True), user, "supervise").annotate(
        due=F("complaint__handling_clock__due_at"))
    return qs, ("due", "pk"), lambda r: Item(
        _("%(no)s 申请延期 %(days)d 日") % {"no": r.complaint.number, "days": r.days},
        reverse("complaints:detail", args=[r.complaint_id]), r.due, r.reasons[:80]), ("complaint",)


def _case_extensions(user):
    from .models import ExtensionRequest

    qs = access.scoped(ExtensionRequest.objects.filter(state=ExtensionRequest.State.PENDING), user, "lead").annotate(
        due=Coalesce("case__legal_clock__due_at", "case__promise_clock__due_at"))
    return qs, ("due", "pk"), lambda r: Item(
        _("%(no)s 申请延长 %(days)d 个工作日") % {"no": r.case.case_no, "days": r.days},
        reverse("inbox:extension", args=[r.pk]), r.due, f"{r.requested_by} · {r.reasons[:60]}"), ("case", "requested_by")


def _staff_reviews(user):
    from xiaoneng.appraisal.models import ReviewStatus, StaffReview

    qs = access.scoped(StaffReview.objects.filter(status=ReviewStatus.PENDING), user, "appraise").annotate(
        due=F("clock__due_at"))
    return qs, ("due", "pk"), lambda r: Item(
        f"{r.grade.staff.name} · {r.grade.period_label}", reverse("appraisal:review", args=[r.pk]), r.due,
        f"{r.grade.organ.name} · {r.original_label}"), ("grade__staff", "grade__organ")


def _sections():
    from xiaoneng.complaints.models import Status as C
    from xiaoneng.supervision.models import AlertStatus as A
    from xiaoneng.supervision.models import OrderStatus as O

    return [
        # (key, title, permission, builder, the full list)
        ("cases", _("待办办件"), "handle", _cases, "/cases/"),
        ("explain", _("待说明的预警"), "handle", _alerts([A.RAISED], "handle"), "/supervision/alerts/?status=raised"),
        ("answer", _("待反馈的督办"), "handle", _orders(O.OPEN, "handle"), "/supervision/orders/?status=open"),
        ("routed", _("转办本机关的投诉"), "complaint.respond", _complaints([C.ROUTED], "complaint.respond"),
         "/complaints/?status=routed"),
        ("extensions", _("待审批的延期申请"), "lead", _case_extensions, ""),
        ("verify", _("待核实的预警说明"), "supervise", _alerts([A.EXPLAINED], "supervise"),
         "/supervision/alerts/?status=explained"),
        ("verify_orders", _("待核实的督办反馈"), "supervise", _orders(O.REPORTED, "supervise"),
         "/supervision/orders/?status=reported"),
        ("objections", _("待决定的申诉"), "supervise", _alerts([A.APPEALED], "supervise"),
         "/supervision/alerts/?status=appealed"),
        ("reviews", _("待决定的投诉复核"), "supervise", _complaints([C.REVIEW], "supervise"), "/complaints/?status=review"),
        ("complaint_extensions", _("待审批的投诉延期"), "supervise", _complaint_extensions, ""),
        ("intake", _("待受理、转办或答复的投诉"), "complaint.handle",
         _complaints([C.REGISTERED, C.ACCEPTED, C.SENT_BACK, C.HANDLED], "complaint.handle", "acceptance_clock"),
         "/complaints/"),
        ("staff_reviews", _("待决定的考核结果复核"), "appraise", _staff_reviews, "/appraisal/reviews/?status=pending"),
    ]


def _nulls_last(order):
    return [F(f).asc(nulls_last=True) if f == "due" else f for f in order]


def sections(user, *, items: bool = True) -> list[Section]:
    """The user's to-do sections (only those their permissions give), with counts and, if `items`, the first rows."""
    if not getattr(user, "is_authenticated", False):
        return []
    out = []
    for key, title, perm, build, more in _sections():
        if not access.has_perm(user, perm):
            continue
        qs, order, to_item, related = build(user)
        section = Section(key, str(title), perm, more)
        section.count = qs.count()
        if items and section.count:
            rows = qs.select_related(*related).order_by(*_nulls_last(order))[:SHOWN]
            section.items = [to_item(r) for r in rows]
        out.append(section)
    return out


def total(user) -> int:
    return sum(s.count for s in sections(user, items=False))


__all__ = ["Item", "Section", "sections", "total"]
