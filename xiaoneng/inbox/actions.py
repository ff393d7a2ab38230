"""Every state change of the inbox: notifications, preferences, reminders, extension requests.

`do_notify_staff(notes)` is the one way a staff notification is made. Callers run it after
their own transaction committed (`notify_after_commit`), so a notification never points at
something that was rolled back. In its own transaction it

1. resolves each note's recipients: the named users, or the staff holding the given roles
   on the note's organ or on an organ above it (their grants' organ subtree covers it);
2. drops the (recipient, key) pairs already notified — `Notification.dedup_key` is unique
   per recipient, so a replayed event (a listener run twice, a pass repeated after a crash)
   notifies nobody twice;
3. creates the notifications and, in the same transaction, queues the SMS / e-mail copies
   each recipient chose for that kind (`notify.outbox`), one outbox row per notification and
   channel, referenced `inbox:<notification id>:<channel>`.

A batch of notes (a monitoring pass raising hundreds of warnings) costs the same few
queries as one note.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.lib.actions import ActionError
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Grant, Organ, Role

from .badge import forget
from .models import Channel, ExtensionRequest, Kind, Notification, Preference

ORGAN_STAFF = (Role.HANDLER, Role.LEADER)


class InboxError(ActionError):
    """A request the inbox refuses; `field` names the input."""


@dataclass
class Note:
    """One notification to make: to `users`, or to the staff in `roles` of `organ_id` and the organs above it."""

    kind: str
    title: str
    key: str
    link: str = ""
    body: str = ""
    organ_id: int | None = None
    roles: tuple = ORGAN_STAFF
    users: list = field(default_factory=list)
    sender_id: int | None = None


def _ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def _recipients(notes: list[Note]) -> dict[int, list]:
    """{note index: [user, ...]} — one query for the organs' paths, one for the grants on them."""
    organ_ids = {n.organ_id for n in notes if n.organ_id}
    paths = dict(Organ.objects.filter(pk__in=organ_ids).values_list("pk", "path")) if organ_ids else {}
    above = {oid: _ancestor_ids(p) for oid, p in paths.items()}
    wanted = {a for ids in above.values() for a in ids}
    grants = []
    if wanted:
        grants = list(Grant.objects.filter(organ_id__in=wanted, role__in={r for n in notes for r in n.roles},
                                           user__is_active=True).select_related("user"))
    out = {}
    for i, note in enumerate(notes):
        users = {u.pk: u for u in note.users if u is not None and u.is_active}
        if note.organ_id in above:
            chain = set(above[note.organ_id])
            for g in grants:
                if g.organ_id in chain and g.role in note.roles:
                    users.setdefault(g.user_id, g.user)
        out[i] = list(users.values())
    return out


def _insert(rows: list[Notification]) -> list[Notification]:
    """Insert in one statement; if another worker made some meanwhile, row by row, keeping the others."""
    if connection.features.can_return_rows_from_bulk_insert:
        try:
            with transaction.atomic():
                return Notification.objects.bulk_create(rows)
        except IntegrityError:
            for row in rows:
                row.pk = None
    kept = []
    for row in rows:
        try:
            with transaction.atomic():
                row.save(force_insert=True)
            kept.append(row)
        except IntegrityError:
            pass
    return kept


@transaction.atomic
def do_notify_staff(notes: list[Note]) -> list[Notification]:
    """Create the notifications of `notes` not made before, and queue their SMS / e-mail copies."""
    from xiaoneng.notify.models import Message
    from xiaoneng.notify.outbox import queue_all

    notes = [n for n in notes if n is not None]
    if not notes:
        return []
    recipients = _recipients(notes)
    pairs = {(u.pk, n.key) for i, n in enumerate(notes) for u in recipients[i]}
    if not pairs:
        return []
    keys = {k for _u, k in pairs}
    done = set(Notification.objects.filter(dedup_key__in=keys, recipient_id__in={u for u, _k in pairs})
               .values_list("recipient_id", "dedup_key"))
    rows, users = [], {}
    for i, note in enumerate(notes):
        for user in recipients[i]:
            if (user.pk, note.key) in done:
                continue
            done.add((user.pk, note.key))  # the same key twice in one batch: once
            users[user.pk] = user
            rows.append(Notification(recipient_id=user.pk, kind=note.kind, title=note.title[:200], body=note.body,
                                     link=note.link[:300], dedup_key=note.key[:120], sender_id=note.sender_id))
    if not rows:
        return []
    rows = _insert(rows)
    prefs = {p.user_id: p for p in Preference.objects.filter(user_id__in=users)}
    messages = []
    for row in rows:
        pref = prefs.get(row.recipient_id)
        if pref is None:
            continue
        user = users[row.recipient_id]
        text = f"【{_('效能监察平台')}】{row.title}" + (f"：{row.body}" if row.body else "")
        for channel in pref.wants(row.kind):
            to = pref.phone if channel == Channel.SMS else user.email
            if to:
                messages.append(Message(channel=channel, to=to, text=text[:1000], kind=f"inbox.{row.kind}",
                                        ref=f"inbox:{row.pk}:{channel}"))
    queue_all(messages)
    users_notified = {r.recipient_id for r in rows}
    transaction.on_commit(lambda: forget(users_notified))
    return rows


def notify_after_commit(notes: list[Note]) -> None:
    """Make the notifications once the caller's transaction has committed (at once outside one)."""
    notes = list(notes)
    if notes:
        # robust: a failure to notify is logged and never reaches the action that already committed
        transaction.on_commit(lambda: do_notify_staff(notes), robust=True)


# --- reading -----------------------------------------------------------------------------
@transaction.atomic
def do_mark_read(user, notification_id: int) -> int:
    n = Notification.objects.filter(recipient=user, pk=notification_id, read_at__isnull=True).update(
        read_at=timezone.now())
    transaction.on_commit(lambda: forget([user.pk]))
    return n


@transaction.atomic
def do_mark_all_read(user) -> int:
    n = Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())
    transaction.on_commit(lambda: forget([user.pk]))
    return n


@transaction.atomic
def do_save_preferences(user, *, phone: str, channels: dict[str, list[str]]) -> Preference:
    phone = (phone or "").strip()
    if phone and not (phone.isdigit() and len(phone) == 11 and phone.startswith("1")):
        raise InboxError(_("手机号应为以1开头的11位数字"), "phone")
    clean = {k: sorted({c for c in v if c in Channel.values}) for k, v in (channels or {}).items() if k in Kind.values}
    clean = {k: v for k, v in clean.items() if v}
    if any(Channel.SMS in v for v in clean.values()) and not phone:
        raise InboxError(_("选择短信通知时必须填写手机号"), "phone")
    if any(Channel.EMAIL in v for v in clean.values()) and not user.email:
        raise InboxError(_("您的账号没有登记电子邮箱，不能选择电子邮件通知；请联系系统管理员登记"), "channels")
    pref, _created = Preference.objects.update_or_create(user=user, defaults={"phone": phone, "channels": clean})
    record("inbox.preferences", pref, object_repr=str(user), changes={"channels": clean, "phone": bool(phone)})
    return pref


# --- reminders (催办) ----------------------------------------------------------------------
def reminder_token() -> str:
    return uuid.uuid4().hex


def may_remind(user, target) -> bool:
    """Only a supervisor whose scope holds the record may send a reminder about it."""
    if not access.has_perm(user, "supervise"):
        return False
    return access.scoped(type(target).objects.filter(pk=target.pk), user, "supervise").exists()


@transaction.atomic
def do_send_reminder(*, sender, target, text: str, link: str, label: str, token: str) -> None:
    """A supervisor reminds the staff of the record's organ; one token sends once, however often it is posted."""
    text = (text or "").strip()
    if not text:
        raise InboxError(_("催办内容不能为空"), "text")
    if len(text) > 500:
        raise InboxError(_("催办内容过长（最多500个字符）"), "text")
    token = (token or "").strip()
    if not token or len(token) > 64:
        raise InboxError(_("催办表单已失效，请刷新页面后重试"), "token")
    if not may_remind(sender, target):
        raise InboxError(_("只有本辖区的效能办监察员可以催办"), "target")
    record("inbox.reminder", target, changes={"text": text})
    notify_after_commit([Note(
        kind=Kind.REMINDER, title=_("催办：%(label)s") % {"label": label}, body=text, link=link,
        key=f"reminder:{token}", organ_id=target.organ_id, sender_id=sender.pk,
    )])


# --- case extensions -----------------------------------------------------------------------
def _case_url(case) -> str:
    return reverse("approvals:case", args=[case.pk])


@transaction.atomic
def do_request_extension(case, *, days, reasons: str, requested_by, at=None) -> ExtensionRequest:
    """A handler asks the organ's leader to extend the case (Art. 42); nothing is extended yet."""
    from xiaoneng.approvals.actions import extension_too_late
    from xiaoneng.approvals.models import Case, Status

    case = Case.objects.select_for_update().select_related("matter_version", "organ").get(pk=case.pk)
    if case.status not in (Status.ACCEPTED, Status.SUSPENDED) or case.parent_id:
        raise InboxError(_("只有已受理、尚未决定的办件可以申请延长"), "status")
    if case.extended:
        raise InboxError(_("办件已经延长过一次，不能再次延长"), "days")
    if ExtensionRequest.objects.filter(case=case, state=ExtensionRequest.State.PENDING).exists():
        raise InboxError(_("该办件已有待审批的延期申请"), "days")
    v = case.matter_version
    maximum = v.joint_extension_max if case.is_parallel else v.extension_max
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise InboxError(_("延长天数必须是整数"), "days") from None
    if not 0 < days <= maximum:
        raise InboxError(_("延长天数须在 1 至 %(max)d 个工作日之间") % {"max": maximum}, "days")
    reasons = (reasons or "").strip()
    if not reasons:
        raise InboxError(_("延长必须说明理由并告知申请人"), "reasons")
    at = at or timezone.now()
    too_late = extension_too_late(case, at)  # nobody may approve it any more: refuse the request at once
    if too_late:
        raise InboxError(too_late, "at")
    request = ExtensionRequest.objects.create(case=case, days=days, reasons=reasons, requested_by=requested_by,
                                              requested_at=at)
    record("case.extension_request", case, changes={"days": days, "reasons": reasons, "request": request.pk})
    notify_after_commit([Note(
        kind=Kind.EXTENSION, title=_("待审批延期：%(no)s 申请延长 %(days)d 个工作日") % {"no": case.case_no, "days": days},
        body=reasons, link=reverse("inbox:extension", args=[request.pk]), key=f"extension:{request.pk}",
        organ_id=case.organ_id,
        roles=(Role.LEADER,),
    )])
    return request


def may_decide(user, request: ExtensionRequest) -> bool:
    """A leader (role `leader`) whose organ subtree holds the case."""
    from xiaoneng.approvals.models import Case

    return access.has_perm(user, "lead") and access.scoped(Case.objects.filter(pk=request.case_id), user, "lead").exists()


@transaction.atomic
def do_decide_extension(request: ExtensionRequest, *, approver, approved: bool, note: str = "",
                        at=None) -> ExtensionRequest:
    """The leader approves (the case is extended, with the leader as approver) or refuses with reasons."""
    from xiaoneng.approvals.actions import do_extend_case

    request = ExtensionRequest.objects.select_for_update().select_related("case").get(pk=request.pk)
    if request.state != ExtensionRequest.State.PENDING:
        raise InboxError(_("该延期申请已审批"), "state")
    if not may_decide(approver, request):
        raise InboxError(_("只有本机关负责人可以审批延期"), "approver")
    note = (note or "").strip()
    if not approved and not note:
        raise InboxError(_("不予批准须说明理由"), "note")
    at = at or timezone.now()
    if approved:
        # The case's own rules decide (status, once only, the maximum, the period not yet ended).
        do_extend_case(request.case, days=request.days, reasons=request.reasons,
                       approver_name=str(approver), approver=approver, at=at)
    request.state = ExtensionRequest.State.APPROVED if approved else ExtensionRequest.State.REFUSED
    request.decided_by, request.decided_at, request.note = approver, at, note
    request.save(update_fields=["state", "decided_by", "decided_at", "note"])
    record("case.extension_decision", request.case, changes={"request": request.pk, "approved": approved, "note": note})
    words = _("已批准") if approved else _("未获批准")
    notify_after_commit([Note(
        kind=Kind.EXTENSION, title=_("延期申请%(words)s：%(no)s") % {"words": words, "no": request.case.case_no},
        body=note, link=_case_url(request.case), key=f"extension:{request.pk}:decided", users=[request.requested_by],
    )])
    return request
