"""Every state change of a complaint, with its clocks.

Clocks (limits in xiaoneng.conf, all configuration):

* complaint.acceptance — from registration, `complaint_acceptance_working_days` (5) for
  the receiving office to accept or not accept (with reasons).
* complaint.handling   — from routing, the organ's limit: a hotline work order
  `hotline_order_working_days` (5 working days), any other complaint
  `complaint_handling_days` (30) in `complaint_handling_unit` (calendar days);
  extendable once or more with a supervisor's approval up to
  `complaint_extension_max_days`. Rerouting stops the old clock and starts a new one.

The organ may send a wrongly routed complaint back within
`complaint_sendback_working_days` (2) working days of routing, with reasons.

Every function runs in one transaction, re-reads the complaint with a row lock, changes
status only through `workflow.set_status`, and tells the complainant after commit.
Permission checks belong to the pages and APIs; these functions check the law and the
state.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, time, timedelta
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.calendar.engine import current as calendar
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks.engine import local_date, tz
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule
from xiaoneng.lib.actions import ActionError
from xiaoneng.orgs.models import Organ, Region

from . import identity as ident
from . import notices
from .masking import mask_fields, masked_copies
from .models import (
    BAD_LEVELS,
    Attachment,
    Category,
    Channel,
    Complaint,
    ComplaintStep,
    ExtensionRequest,
    IdentityGrant,
    ReplyChannel,
    Result,
    Satisfaction,
    Status,
)
from .signals import complaint_routed
from .validation import email_error, id_number_error, normalise_phone, phone_error
from .workflow import set_status, step

K = ComplaintStep.Kind
SECRET_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read out over the phone
# Channels whose source document must be named (hotline ticket, media, programme, referral).
NEEDS_SOURCE_REF = {Channel.HOTLINE, Channel.MEDIA, Channel.INTERVIEW, Channel.REFERRAL}


class ComplaintError(ActionError):
    """A request the rules or the complaint's state do not allow; `field` names the input."""


# --- helpers ---------------------------------------------------------------------------
_at = ComplaintError.moment
_need = ComplaintError.text


def _locked(complaint: Complaint) -> Complaint:
    return Complaint.objects.select_for_update(of=("self",)).select_related("organ", "region", "category").get(
        pk=complaint.pk)


def secret_digest(number: str, secret: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), f"complaint:{number}:{secret}".encode(), hashlib.sha256).hexdigest()


def check_secret(complaint: Complaint, secret: str) -> bool:
    given = (secret or "").strip().upper()
    return bool(given) and hmac.compare_digest(complaint.secret_hash, secret_digest(complaint.number, given))


def _new_number(at: datetime) -> str:
    day = local_date(at).strftime("%Y%m%d")
    while True:  # random, not sequential: numbers do not tell how many complaints there are
        number = f"TS{day}{secrets.randbelow(10**6):06d}"
        if not Complaint.objects.filter(number=number).exists():
            return number


def _end_of_working_day(after: datetime, n: int) -> datetime:
    """24:00 of the n-th working day after `after`'s day (the day itself is not counted)."""
    last = calendar(check=False).add_working_days(local_date(after), n)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz())


def office_for(region: Region) -> Organ | None:
    """The complaint centre of the region, or of the nearest region above that has one."""
    name = rule("complaint_office_short_name")
    prefixes = [r.prefix for r in [region, *reversed(region.ancestors())]]
    offices = {o.region_code: o for o in Organ.objects.filter(region_code__in=prefixes, short_name=name, is_active=True)}
    return next((offices[p] for p in prefixes if p in offices), None)


def _stop(clock_id: int | None, at: datetime) -> None:
    if clock_id:
        clock = Clock.objects.get(pk=clock_id)
        clocks.do_stop_clock(clock, at=max(at, clock.start_at))


def _decimal(value, field: str, low: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation as exc:
        raise ComplaintError(_("%(field)s 必须是数字") % {"field": field}, field) from exc
    # The exponent before any arithmetic: abs(Decimal("1e1000000")) overflows the decimal context.
    if not number.is_finite() or number.adjusted() > len(str(low)) or abs(number) > low:
        raise ComplaintError(_("%(field)s 超出范围（±%(n)d）") % {"field": field, "n": low}, field)
    return number.quantize(Decimal("0.000001"))


def _check_identity(who: ident.Identity, anonymous: bool, reply_channel: str) -> None:
    if reply_channel not in ReplyChannel.values:
        raise ComplaintError(_("答复方式无效"), "reply_channel")
    if anonymous:
        if reply_channel != ReplyChannel.WEB:
            raise ComplaintError(_("匿名投诉只能凭投诉编号和查询码在网上查询答复"), "reply_channel")
        return
    for field, error in (("phone", phone_error(who.phone)), ("id_number", id_number_error(who.id_number)),
                         ("email", email_error(who.email))):
        if error:
            raise ComplaintError(error, field)
    if not (who.name or who.phone or who.email):
        raise ComplaintError(_("实名投诉请至少留下姓名、联系电话或电子邮件；不愿留名可选择匿名"), "name")
    needs = {ReplyChannel.SMS: "phone", ReplyChannel.PHONE: "phone", ReplyChannel.EMAIL: "email",
             ReplyChannel.LETTER: "address"}.get(reply_channel)
    if needs and not getattr(who, needs):
        raise ComplaintError(_("所选答复方式需要填写%(what)s") % {"what": {
            "phone": _("联系电话"), "email": _("电子邮件"), "address": _("通讯地址")}[needs]}, needs)
    if len(who.name) > 50 or len(who.address) > 200 or len(who.device_id) > 100:
        raise ComplaintError(_("投诉人信息过长"), "name")


def content_digest(title: str, content: str) -> str:
    text = "".join((title + content).split())
    return hashlib.sha256(text.encode()).hexdigest()


def find_duplicate(complaint: Complaint) -> Complaint | None:
    """An open complaint in the window with the same complainant phone (and the same organ
    or category) or the very same text: a candidate the office confirms by merging.

    Only among the complaints of the same office (of the same region where there is none): the
    office that merges sees both, and another region's staff must not learn from the flag that
    this person complained there too."""
    since = complaint.received_at - timedelta(days=int(rule("complaint_duplicate_window_days")))
    base = Complaint.objects.exclude(pk=complaint.pk).filter(received_at__gte=since).exclude(
        status__in=[Status.CLOSED, Status.NOT_ACCEPTED, Status.MERGED])
    base = base.filter(office=complaint.office) if complaint.office_id else base.filter(
        office__isnull=True, region_code=complaint.region_code)
    same_text = base.filter(content_digest=complaint.content_digest)
    candidates = same_text
    if complaint.phone_digest:
        same_person = base.filter(phone_digest=complaint.phone_digest, category=complaint.category_id)
        candidates = same_text | same_person
    return candidates.order_by("received_at").first()


# --- registration ----------------------------------------------------------------------
# Complaints whose texts the public Open311 interface shows (open311.public); the others are
# between the complainant and the office.
PUBLISHED_CHANNELS = (Channel.OPEN311,)


def _published(complaint: Complaint, text: str) -> str:
    """The outcome text as Open311 publishes it, or "" for a complaint it does not publish."""
    if complaint.channel not in PUBLISHED_CHANNELS:
        return ""
    return ident.for_publication(complaint, text, purpose="mask the complainant in the public Open311 status notes")


@transaction.atomic
def do_register_complaint(
    *, channel: str, category: Category, title: str, content: str, region: Region,
    complainant: ident.Identity | None = None, anonymous: bool = False, reply_channel: str = ReplyChannel.WEB,
    named_organ: str = "", organ: Organ | None = None, matter=None, case=None, source_ref: str = "",
    address_string: str = "", lat=None, long=None, received_at: datetime | None = None, api_key=None,
) -> tuple[Complaint, str]:
    """Register a complaint from any channel; returns it and the complainant's secret.

    `organ` is the organ complained about when the registrar already knows it (it is
    only a suggestion until the complaint is routed)."""
    at = _at(received_at, "received_at")
    if channel not in Channel.values:
        raise ComplaintError(_("投诉渠道无效"), "channel")
    if category is None or not category.is_active:
        raise ComplaintError(_("投诉类别无效或已停用"), "category")
    title = _need(title, "title", _("请填写投诉标题"), 200)
    content = _need(content, "content", _("请填写投诉内容"), int(rule("complaint_max_content_chars")))
    source_ref = (source_ref or "").strip()
    if channel in NEEDS_SOURCE_REF and not source_ref:
        raise ComplaintError(_("该渠道须填写来源编号（热线工单号、媒体栏目、访谈期次或转办文号）"), "source_ref")
    who = ident.Identity() if anonymous else (complainant or ident.Identity())
    who = ident.Identity.of(**{**who.__dict__, "phone": normalise_phone(who.phone)})
    _check_identity(who, anonymous, reply_channel)
    if organ is not None and not organ.region_code.startswith(region.prefix):
        raise ComplaintError(_("被投诉机关不在所选区划内"), "organ")

    complaint = Complaint(
        number=_new_number(at), token=uuid.uuid4(), channel=channel, source_ref=source_ref[:100], category=category,
        title=title, content=content, region=region, region_code=region.prefix, office=office_for(region),
        named_organ=(named_organ or (organ.name if organ else "")).strip()[:200], matter=matter, case=case,
        address_string=(address_string or "").strip()[:200], lat=_decimal(lat, "lat", 90),
        long=_decimal(long, "long", 180), anonymous=anonymous, reply_channel=reply_channel, received_at=at,
        content_digest=content_digest(title, content), api_key=api_key, **ident.stored(who),
        public_content=ident.mask_in(content, who) if channel in PUBLISHED_CHANNELS else "",
    )
    complaint.masked = masked_copies({"title": complaint.title, "content": content,
                                      "address_string": complaint.address_string}, who)
    ident.masker_for(complaint, who=who)  # its steps are masked with the identity at hand, no decryption
    secret = "".join(secrets.choice(SECRET_ALPHABET) for _i in range(8))
    complaint.secret_hash = secret_digest(complaint.number, secret)
    try:
        with transaction.atomic():
            complaint.save(force_insert=True)
    except IntegrityError as exc:  # two registrations drew the same random number at once
        raise ComplaintError(_("投诉编号冲突，请重试"), "number") from exc
    complaint.acceptance_clock = clocks.do_start_clock(
        kind="complaint.acceptance", start_at=at, limit=int(rule("complaint_acceptance_working_days")),
        unit="working", subject=complaint, organ=complaint.office, region_code=complaint.region_code,
        label=f"{complaint.number} {_('投诉受理')}", legal_basis=_("效能投诉受理规定"),
    )
    complaint.possible_duplicate = find_duplicate(complaint)
    complaint.save(update_fields=["acceptance_clock", "possible_duplicate"])
    step(complaint, K.REGISTER, at, text=title, to_status=Status.REGISTERED,
         data={"channel": channel, "possible_duplicate": complaint.possible_duplicate_id})
    record("complaint.register", complaint, changes={"channel": channel, "anonymous": anonymous})
    notices.tell(complaint, who, "registered", secret=secret)
    return complaint, secret


# --- acceptance ------------------------------------------------------------------------
@transaction.atomic
def do_accept(complaint: Complaint, *, note: str = "", at: datetime | None = None) -> Complaint:
    at = _at(at)
    complaint = _locked(complaint)
    complaint.accepted_at = at
    set_status(complaint, Status.ACCEPTED, K.ACCEPT, at, text=note.strip(), fields=("accepted_at",))
    _stop(complaint.acceptance_clock_id, at)
    notices.tell(complaint, None, "accepted")
    return complaint


@transaction.atomic
def do_not_accept(complaint: Complaint, *, reasons: str, at: datetime | None = None) -> Complaint:
    at = _at(at)
    reasons = _need(reasons, "reasons", _("不予受理必须说明理由"))
    complaint = _locked(complaint)
    complaint.reasons, complaint.closed_at = reasons, at
    complaint.public_note = _published(complaint, reasons)
    mask_fields(complaint, "reasons")
    set_status(complaint, Status.NOT_ACCEPTED, K.NOT_ACCEPT, at, text=reasons,
               fields=("reasons", "closed_at", "public_note", "masked"))
    _stop(complaint.acceptance_clock_id, at)
    notices.tell(complaint, None, "not_accepted", reasons=reasons)
    return complaint


# --- routing and the organ's answer ----------------------------------------------------
def handling_limit(complaint: Complaint) -> tuple[int, str]:
    if complaint.channel == Channel.HOTLINE:
        return int(rule("hotline_order_working_days")), "working"
    return int(rule("complaint_handling_days")), str(rule("complaint_handling_unit"))


@transaction.atomic
def do_route(complaint: Complaint, *, organ: Organ, note: str = "", at: datetime | None = None) -> Complaint:
    """Send the complaint to the organ that must answer it, on a fresh handling clock.

    Also the path for rerouting after a send-back, for returning an insufficient report
    (退回重办) and for a review that orders the complaint handled again."""
    at = _at(at)
    complaint = _locked(complaint)
    if organ is None or not organ.is_active:
        raise ComplaintError(_("请选择有效的承办机关"), "organ")
    if not organ.region_code.startswith(complaint.region.prefix):
        raise ComplaintError(_("承办机关不在投诉所属区划内"), "organ")
    kind = K.RETURN if complaint.status == Status.HANDLED and complaint.organ_id == organ.pk else K.ROUTE
    _stop(complaint.handling_clock_id, at)
    limit, unit = handling_limit(complaint)
    complaint.organ, complaint.routed_at = organ, at
    complaint.region_code = organ.region_code  # the organ's own supervisors see it; those above still do
    complaint.route_count += 1
    complaint.sendback_until = _end_of_working_day(at, int(rule("complaint_sendback_working_days")))
    complaint.handling_clock = clocks.do_start_clock(
        kind="complaint.handling", start_at=at, limit=limit, unit=unit, subject=complaint, organ=organ,
        label=f"{complaint.number} {_('投诉办理')}", legal_basis=_("效能投诉办理规定"),
    )
    set_status(complaint, Status.ROUTED, kind, at, text=note.strip(), organ=organ,
               data={"organ": organ.name, "route": complaint.route_count, "limit": limit, "unit": unit},
               fields=("organ", "routed_at", "region_code", "route_count", "sendback_until", "handling_clock"))
    if kind == K.ROUTE:
        notices.tell(complaint, None, "routed", organ=organ.name)
    complaint_routed.send(sender=Complaint, complaint=complaint)
    return complaint


@transaction.atomic
def do_send_back(complaint: Complaint, *, reasons: str, at: datetime | None = None) -> Complaint:
    """The organ says the complaint is not theirs (within the send-back window)."""
    at = _at(at)
    reasons = _need(reasons, "reasons", _("退回必须说明理由"))
    complaint = _locked(complaint)
    if complaint.status == Status.ROUTED and complaint.sendback_until and at > complaint.sendback_until:
        raise ComplaintError(_("已超过退回期限（%(until)s），请按期办理或申请延期") % {
            "until": timezone.localtime(complaint.sendback_until, tz()).strftime("%Y-%m-%d %H:%M")}, "reasons")
    organ = complaint.organ
    _stop(complaint.handling_clock_id, at)
    complaint.organ = None
    set_status(complaint, Status.SENT_BACK, K.SEND_BACK, at, text=reasons, organ=organ,
               data={"organ": organ.name if organ else ""}, fields=("organ",))
    return complaint


@transaction.atomic
def do_request_extension(complaint: Complaint, *, days: int, reasons: str, at: datetime | None = None) -> ExtensionRequest:
    at = _at(at)
    reasons = _need(reasons, "reasons", _("申请延期必须说明理由"))
    complaint = _locked(complaint)
    if complaint.status != Status.ROUTED or not complaint.handling_clock_id:
        raise ComplaintError(_("只有办理中的投诉可以申请延期"), "days")
    if complaint.extension_requests.filter(approved__isnull=True).exists():
        raise ComplaintError(_("已有待审批的延期申请"), "days")
    clock = complaint.handling_clock
    cap = int(rule("complaint_extension_max_days"))
    if not isinstance(days, int) or days <= 0 or clock.extension_days + days > cap:
        raise ComplaintError(_("延期天数须为正整数，且累计不超过 %(cap)d 日") % {"cap": cap}, "days")
    asked = step(complaint, K.EXTENSION_REQUEST, at, text=reasons, organ=complaint.organ, data={"days": days})
    request = ExtensionRequest.objects.create(complaint=complaint, days=days, reasons=reasons, requested_at=at,
                                              requested_by=asked.actor_label,
                                              masked={"reasons": asked.text_masked})
    # The audit log is read without the identity right: the masked copy.
    record("complaint.extension_request", complaint, changes={"days": days, "reasons": asked.text_masked})
    return request


@transaction.atomic
def do_decide_extension(request: ExtensionRequest, *, approved: bool, approver, note: str = "",
                        at: datetime | None = None) -> ExtensionRequest:
    at = _at(at)
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    if request.approved is not None:
        raise ComplaintError(_("该延期申请已审批"), "approved")
    complaint = _locked(request.complaint)
    if not approved and not note.strip():
        raise ComplaintError(_("不予批准须说明理由"), "note")
    if approved:
        if complaint.status != Status.ROUTED:
            raise ComplaintError(_("投诉已不在办理中，无需延期"), "approved")
        if clocks.ended_before(complaint.handling_clock, at):  # an extension must come before the period ends
            raise ComplaintError(_("办理期限已于 %(due)s 届满，不能再批准延期（延期须在期限届满前批准）")
                                 % {"due": deadline_label(complaint.handling_clock.due_at)}, "approved")
        clocks.do_extend_clock(complaint.handling_clock, days=request.days, reason=request.reasons, approver=approver,
                               at=at, max_total=int(rule("complaint_extension_max_days")))
        complaint.extended = True
        complaint.save(update_fields=["extended"])
    request.approved, request.decided_at, request.decided_by, request.note = approved, at, approver, note.strip()
    decided = step(complaint, K.EXTENSION_DECISION, at, text=request.note,
                   data={"days": request.days, "approved": approved})
    request.masked = {**request.masked, "note": decided.text_masked}
    request.save(update_fields=["approved", "decided_at", "decided_by", "note", "masked"])
    record("complaint.extension_decision", complaint, changes={"days": request.days, "approved": approved})
    return request


@transaction.atomic
def do_report_handling(complaint: Complaint, *, report: str, result: str, at: datetime | None = None) -> Complaint:
    """The organ (or the office, for what it answers itself) reports what it found and did."""
    at = _at(at)
    report = _need(report, "report", _("请填写办理情况"))
    complaint = _locked(complaint)
    if result not in Result.values:
        raise ComplaintError(_("请选择核查结论（属实、部分属实、不属实）"), "result")
    complaint.handling_report, complaint.result, complaint.handled_at = report, result, at
    mask_fields(complaint, "handling_report")
    set_status(complaint, Status.HANDLED, K.HANDLE, at, text=report, organ=complaint.organ, data={"result": result},
               fields=("handling_report", "result", "handled_at", "masked"))
    _stop(complaint.handling_clock_id, at)
    return complaint


# --- reply, rating, review -------------------------------------------------------------
@transaction.atomic
def do_reply(complaint: Complaint, *, text: str, at: datetime | None = None) -> Complaint:
    at = _at(at)
    text = _need(text, "text", _("请填写答复内容"))
    complaint = _locked(complaint)
    complaint.reply, complaint.replied_at = text, at
    complaint.public_note = _published(complaint, text)
    mask_fields(complaint, "reply")
    set_status(complaint, Status.REPLIED, K.REPLY, at, text=text,
               fields=("reply", "replied_at", "public_note", "masked"))
    notices.tell(complaint, None, "replied", reply=text)
    for merged in complaint.merged.all():  # complainants whose complaints were merged hear the answer too
        notices.tell(merged, None, "replied", reply=text)
    return complaint


def _level(level) -> int:
    try:
        value = int(level)
    except (TypeError, ValueError):
        value = 0
    if value not in Satisfaction.values:
        raise ComplaintError(_("满意度须为五级之一：非常满意、满意、基本满意、不满意、非常不满意"), "level")
    return value


@transaction.atomic
def do_rate(complaint: Complaint, *, level, comment: str = "", at: datetime | None = None) -> Complaint:
    """The complainant's satisfaction with the reply. Satisfied → closed; dissatisfied →
    stays replied, and the complainant may ask for a review within the appeal window."""
    at = _at(at)
    value = _level(level)
    complaint = _locked(complaint)
    if complaint.status != Status.REPLIED or complaint.satisfaction is not None:
        raise ComplaintError(_("只有已答复且尚未评价的投诉可以评价"), "level")
    complaint.satisfaction, complaint.satisfaction_comment, complaint.rated_at = value, comment.strip()[:500], at
    mask_fields(complaint, "satisfaction_comment")
    complaint.save(update_fields=["satisfaction", "satisfaction_comment", "rated_at", "masked"])
    step(complaint, K.RATE, at, text=complaint.satisfaction_comment, data={"level": value})
    record("complaint.rate", complaint, changes={"level": value})
    if value not in BAD_LEVELS:
        complaint.closed_at = at
        set_status(complaint, Status.CLOSED, K.CLOSE, at, fields=("closed_at",))
    return complaint


def appeal_deadline(complaint: Complaint) -> datetime | None:
    if complaint.replied_at is None:
        return None
    return complaint.replied_at + timedelta(days=int(rule("complaint_appeal_days")))


@transaction.atomic
def do_appeal(complaint: Complaint, *, reasons: str, at: datetime | None = None) -> Complaint:
    at = _at(at)
    reasons = _need(reasons, "reasons", _("申请复核须说明理由"))
    complaint = _locked(complaint)
    if complaint.appealed_at is not None:
        raise ComplaintError(_("同一投诉只能申请一次复核"), "reasons")
    if complaint.status == Status.REPLIED and at > appeal_deadline(complaint):
        raise ComplaintError(_("已超过申请复核期限（答复后 %(n)d 日）") % {"n": int(rule("complaint_appeal_days"))},
                             "reasons")
    complaint.appeal_reasons, complaint.appealed_at = reasons, at
    mask_fields(complaint, "appeal_reasons")
    set_status(complaint, Status.REVIEW, K.APPEAL, at, text=reasons, fields=("appeal_reasons", "appealed_at", "masked"))
    return complaint


@transaction.atomic
def do_decide_review(complaint: Complaint, *, upheld: bool, reasons: str, organ: Organ | None = None,
                     at: datetime | None = None) -> Complaint:
    """复核: uphold the reply (closed) or order the complaint handled again (routed)."""
    at = _at(at)
    reasons = _need(reasons, "reasons", _("复核决定须说明理由"))
    complaint = _locked(complaint)
    if complaint.status != Status.REVIEW:
        raise ComplaintError(_("投诉不在复核中"), "upheld")
    step(complaint, K.REVIEW, at, text=reasons, data={"upheld": upheld})
    record("complaint.review", complaint, changes={"upheld": upheld})
    if upheld:
        complaint.closed_at = at
        set_status(complaint, Status.CLOSED, K.CLOSE, at, text=reasons, fields=("closed_at",))
        notices.tell(complaint, None, "review_upheld", reasons=reasons)
        return complaint
    target = organ or complaint.organ
    if target is None:
        raise ComplaintError(_("请选择重新办理的承办机关"), "organ")
    complaint = do_route(complaint, organ=target, note=reasons, at=at)
    notices.tell(complaint, None, "review_reopened", reasons=reasons)
    return complaint


@transaction.atomic
def do_close(complaint: Complaint, *, note: str = "", at: datetime | None = None) -> Complaint:
    """Close a replied complaint whose complainant did not ask for a review in time."""
    at = _at(at)
    complaint = _locked(complaint)
    if complaint.status == Status.REPLIED and at <= appeal_deadline(complaint) and complaint.satisfaction in BAD_LEVELS:
        raise ComplaintError(_("投诉人不满意且仍在复核申请期内，暂不能办结"), "note")
    complaint.closed_at = at
    set_status(complaint, Status.CLOSED, K.CLOSE, at, text=note.strip(), fields=("closed_at",))
    return complaint


def close_stale(at: datetime | None = None) -> int:
    """Close every replied complaint whose appeal window has passed (daily sweep)."""
    at = _at(at)
    cutoff = at - timedelta(days=int(rule("complaint_appeal_days")))
    closed = 0
    for complaint in Complaint.objects.filter(status=Status.REPLIED, replied_at__lt=cutoff).only("pk"):
        do_close(complaint, note=_("答复后逾期未申请复核，自动办结"), at=at)
        closed += 1
    return closed


# --- merging, identity, supervision ----------------------------------------------------
@transaction.atomic
def do_merge(duplicate: Complaint, *, into: Complaint, note: str = "", at: datetime | None = None) -> Complaint:
    at = _at(at)
    if duplicate.pk == into.pk:
        raise ComplaintError(_("不能把投诉合并到它自己"), "into")
    duplicate, into = _locked(duplicate), _locked(into)
    if not into.is_open() or into.merged_into_id:
        raise ComplaintError(_("只能合并到仍在办理中的投诉"), "into")
    duplicate.merged_into, duplicate.closed_at = into, at
    set_status(duplicate, Status.MERGED, K.MERGE, at, text=note.strip(), data={"into": into.number},
               fields=("merged_into", "closed_at"))
    _stop(duplicate.acceptance_clock_id, at)
    _stop(duplicate.handling_clock_id, at)
    merged_step = step(into, K.MERGE, at, text=note.strip(), data={"merged": duplicate.number})
    if merged_step.text:  # the note may name the duplicate's complainant too
        merged_step.text_masked = ident.masker_for(duplicate)(merged_step.text_masked)
        merged_step.save(update_fields=["text_masked"])
    notices.tell(duplicate, None, "merged")
    return duplicate


@transaction.atomic
def do_grant_identity(complaint: Complaint, *, organ: Organ, reasons: str, actor,
                      at: datetime | None = None) -> IdentityGrant:
    at = _at(at)
    reasons = _need(reasons, "reasons", _("授权查看投诉人身份须说明理由"))
    if complaint.anonymous or not complaint.identity_enc:
        raise ComplaintError(_("匿名投诉没有可授权查看的身份信息"), "organ")
    grant, created = IdentityGrant.objects.get_or_create(
        complaint=complaint, organ=organ, defaults={"reasons": reasons, "granted_by": actor, "at": at,
                                                    "reasons_masked": ident.masker_for(complaint)(reasons)})
    if created:
        step(complaint, K.IDENTITY_GRANT, at, text=reasons, organ=organ, data={"organ": organ.name})
        record("complaint.identity_grant", complaint, changes={"organ": organ.pk, "reasons": grant.reasons_masked})
    return grant


@transaction.atomic
def do_open_order(complaint: Complaint, *, demand: str, days: int | None = None, at: datetime | None = None):
    """督办 the organ over this complaint (supervision's own order, with its own clock)."""
    from xiaoneng.supervision import actions as supervision
    from xiaoneng.supervision.models import OrderSource

    at = _at(at)
    if complaint.organ is None:
        raise ComplaintError(_("投诉尚未转办到承办机关，不能督办"), "demand")
    try:
        # The order goes to the organ complained about: the complaint's title and the demand as it may read them.
        order = supervision.do_open_order(organ=complaint.organ, source=OrderSource.COMPLAINT,
                                          title=str(complaint)[:200], demand=ident.masker_for(complaint)(demand),
                                          days=days, at=at)
    except supervision.SupervisionError as exc:
        raise ComplaintError(exc.message, exc.field) from exc
    step(complaint, K.ORDER, at, text=demand, organ=complaint.organ, data={"order": order.number, "order_id": order.pk})
    return order


@transaction.atomic
def do_propose_accountability(complaint: Complaint, *, reason: str, at: datetime | None = None):
    from xiaoneng.supervision.models import AccountabilityProposal

    at = _at(at)
    reason = _need(reason, "reason", _("问责建议须说明事实和理由"))
    if complaint.organ is None:
        raise ComplaintError(_("投诉尚未转办到承办机关，不能提出问责建议"), "reason")
    if complaint.result not in ("founded", "partly"):
        raise ComplaintError(_("只有核查属实或部分属实的投诉可以提出问责建议"), "reason")
    proposal = AccountabilityProposal.objects.create(
        complaint=complaint, organ=complaint.organ, region_code=complaint.organ.region_code,
        reason=reason, proposed_at=at)
    step(complaint, K.PROPOSAL, at, text=reason, organ=complaint.organ, data={"proposal": proposal.pk})
    record("complaint.proposal", complaint, changes={"organ": complaint.organ_id})
    return proposal


@transaction.atomic
def do_attach_files(complaint: Complaint, files: list, *, at: datetime | None = None) -> list[Attachment]:
    """Store the complainant's pictures and PDFs (already judged by `lib.uploads.check`) with the complaint.

    Called in the registration's transaction: a refused complaint leaves no attachment row; a file written
    for a transaction that then failed is named by no row and never served."""
    at = _at(at)
    if len(files) > int(rule("complaint_attachment_max_count")):
        raise ComplaintError(_("最多上传 %(n)d 个附件") % {"n": rule("complaint_attachment_max_count")}, "attachments")
    stored = []
    for checked in files:
        attachment = Attachment(complaint=complaint, name=checked.name, content_type=checked.content_type,
                                size=len(checked.data), sha256=checked.sha256, uploaded_at=at)
        attachment.file.save(checked.storage_name(), ContentFile(checked.data), save=False)
        attachment.save(force_insert=True)
        stored.append(attachment)
    if stored:
        record("complaint.attach", complaint, changes={"files": [a.sha256 for a in stored]})
    return stored
