"""Listeners that turn supervision and complaint events into staff notifications (after commit)."""
import logging
from functools import wraps

from django.dispatch import receiver
from django.urls import reverse
from django.utils.translation import gettext as _

from xiaoneng.clocks.explain import deadline_label
from xiaoneng.complaints.signals import complaint_routed
from xiaoneng.orgs.models import Role
from xiaoneng.supervision.signals import alerts_raised, order_opened

from .actions import Note, notify_after_commit
from .models import Kind

log = logging.getLogger(__name__)
CARD_LEVELS = ("yellow", "red")


def never_raises(listener):
    """A listener runs inside the sender's transaction: a notification problem must not undo the event."""
    @wraps(listener)
    def safe(*args, **kwargs):
        try:
            listener(*args, **kwargs)
        except Exception:
            log.exception("inbox listener %s failed", listener.__name__)
    return safe
NEAR_DEADLINE_RULES = ("near_deadline",)


@receiver(alerts_raised, dispatch_uid="inbox-alerts-raised")
@never_raises
def on_alerts_raised(sender, alerts, **kwargs):
    """A yellow or red card tells the organ's handlers and leaders; a near-deadline warning tells its handlers."""
    from xiaoneng.supervision.models import Level

    labels = dict(Level.choices)
    notes = []
    for pk, f in alerts:
        link = reverse("supervision:alert", args=[pk])
        subject = str(f.subject)[:120] if f.subject is not None else f.rule
        if f.level in CARD_LEVELS:
            notes.append(Note(kind=Kind.CARD, title=_("%(level)s：%(subject)s") % {"level": labels[f.level], "subject": subject},
                              body=f.message, link=link, key=f"card:{pk}", organ_id=f.organ.pk))
        elif f.rule in NEAR_DEADLINE_RULES and f.clock is not None:
            due = deadline_label(getattr(f.clock, "due_at", None))
            notes.append(Note(kind=Kind.DEADLINE, title=_("临近到期：%(subject)s，%(due)s 到期") % {"subject": subject, "due": due},
                              body=f.message, link=link, key=f"deadline:{f.clock.pk}", organ_id=f.organ.pk,
                              roles=(Role.HANDLER,)))
    notify_after_commit(notes)


@receiver(order_opened, dispatch_uid="inbox-order-opened")
@never_raises
def on_order_opened(sender, order, **kwargs):
    due = deadline_label(order.clock.due_at) if order.clock_id and order.clock.due_at else ""
    notify_after_commit([Note(
        kind=Kind.ORDER, title=_("督办 %(no)s：%(title)s") % {"no": order.number, "title": order.title[:100]},
        body=(_("请于 %(due)s 前反馈。") % {"due": due} if due else "") + order.demand[:300],
        link=reverse("supervision:order", args=[order.pk]), key=f"order:{order.pk}", organ_id=order.organ_id,
    )])


@receiver(complaint_routed, dispatch_uid="inbox-complaint-routed")
@never_raises
def on_complaint_routed(sender, complaint, **kwargs):
    clock = complaint.handling_clock if complaint.handling_clock_id else None
    due = deadline_label(clock.due_at) if clock is not None and clock.due_at else ""
    notify_after_commit([Note(
        kind=Kind.COMPLAINT, title=_("投诉转办 %(no)s：%(title)s") % {"no": complaint.number, "title": complaint.title[:100]},
        body=_("办理期限 %(due)s") % {"due": due} if due else "",
        link=reverse("complaints:detail", args=[complaint.pk]),
        # A complaint routed again (after a send-back, a return, a review) is a new assignment.
        key=f"complaint:{complaint.pk}:{complaint.route_count}", organ_id=complaint.organ_id,
    )])
