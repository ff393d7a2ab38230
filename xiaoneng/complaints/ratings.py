"""Every state change of a service rating (政务服务“好差评”), with its rectification clock.

A rating's life is the transition table `TRANSITIONS` below; `_set_status()` is its only
writer and adds one `RatingStep` and one audit entry per change. Decisions this module
takes (and the tests pin down):

* Level and sub-indicators. `scores` must hold exactly the kind's indicators
  (`SUB_INDICATORS[kind]`), each one of the five levels. "overall" (总体评价) *is* the
  rating's level: `level` may be left out (taken from scores["overall"]); when both are
  given they must agree. One source of truth, no silent correction.
* A case must have been handled by the rated organ: the case's own organ, or — for a
  parallel application — the co-organ of one of its sub-cases (the rating is then stored
  on that sub-case, so each organ answers for its own part). The matter comes from the
  case. A case is rated only once it is finished (refused, decided, certified or closed).
* One rating per case (for a parallel application: per sub-case, i.e. per organ's part),
  whoever rates: the case number and code are all a rater shows, so anyone holding them
  could otherwise outvote a bad review. The first rating stands; a second one (a replay, a
  double submit, another phone, anonymous) is refused and changes nothing. The case row is
  locked while checking, and a unique constraint (`rating_once_per_case`) backs it up, so
  two submits at once cannot both pass.
* A window-visit rating without a case names the organ and the window.
* A named rater leaves a phone (there is no call-back without one).
* A bad (不满意/非常不满意) NAMED rating waits for the organ's call-back (status callback)
  and starts the rectification clock (`bad_review_rectification_working_days`). An
  anonymous bad rating counts in every statistic as a bad review, but nobody can be
  called back or told of the outcome, so it has no clock and its status is done.
* The organ may appeal a bad review as malicious or mistaken within
  `rating_appeal_working_days` working days of the rating, once. The rectification
  clock is PAUSED while a supervisor decides: the organ is not late for the time the
  decision takes, and the short, single appeal window keeps this from being a way to
  delay. Upheld → annulled (clock stopped; excluded from statistics); refused → back to
  where the rating was (the clock runs again).

Permission checks belong to the pages, except the appeal decision, which names the
supervisor who takes it and is checked against their scope here.
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.audit.log import record
from xiaoneng.calendar.engine import current as calendar
from xiaoneng.clocks import actions as clocks
from xiaoneng.clocks.engine import local_date, tz
from xiaoneng.clocks.models import Clock
from xiaoneng.conf import rule
from xiaoneng.lib.actions import ActionError
from xiaoneng.notify.outbox import queue
from xiaoneng.orgs import access

from . import identity as ident
from .models import BAD_LEVELS, SUB_INDICATORS, Rating, RatingKind, RatingStatus, RatingStep, Satisfaction
from .validation import normalise_phone, phone_error

S = RatingStatus
K = RatingStep.Kind
CLOCK_KIND = "rating.rectification"
LEGAL_BASIS = "政务服务“好差评”制度"
# A case is rated once the service is over (the applicant has an answer).
FINISHED_CASE_STATUSES = ("refused", "decided", "certified", "closed")

def already_rated() -> RatingError:
    return RatingError(_("该办件已经评价过，每个办件只能评价一次，以首次评价为准。"), "case")


TRANSITIONS: dict[str, set[str]] = {
    # An anonymous bad review (done) may still be appealed: it counts in the statistics.
    S.DONE: {S.APPEALED},
    S.CALLBACK: {S.RECTIFYING, S.APPEALED},
    S.RECTIFYING: {S.RECTIFIED, S.APPEALED},
    # Once rectified the organ has accepted the review: nothing more to appeal.
    S.RECTIFIED: set(),
    # Upheld → annulled; refused → back to the state before the appeal.
    S.APPEALED: {S.ANNULLED, S.DONE, S.CALLBACK, S.RECTIFYING},
    S.ANNULLED: set(),
}


class RatingError(ActionError):
    """A request the rules or the rating's state do not allow; `field` names the input."""


# --- helpers ---------------------------------------------------------------------------
_at = RatingError.moment


def _need(text, field: str, message: str, limit: int = 2000) -> str:
    return RatingError.text(text, field, message, limit)


def _one_level(value, field: str) -> int:
    if isinstance(value, bool):
        value = None
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        number = None
    if number not in Satisfaction.values:
        raise RatingError(_("评价等级须为五级之一（5 非常满意 … 1 非常不满意）"), field)
    return number


def check_scores(kind: str, level, scores) -> tuple[int, dict[str, int]]:
    """The rating's level and its sub-indicator scores, checked (see the module docstring)."""
    if kind not in RatingKind.values:
        raise RatingError(_("评价类型无效"), "kind")
    if not isinstance(scores, dict):
        raise RatingError(_("分项评价格式不正确"), "scores")
    wanted = SUB_INDICATORS[kind]
    unknown = sorted(str(k) for k in scores if k not in wanted)
    if unknown:
        raise RatingError(_("未知的评价指标：%(names)s") % {"names": "、".join(unknown)}, "scores")
    given = dict(scores)
    if "overall" not in given and level not in (None, ""):
        given["overall"] = level
    missing = [str(wanted[k]) for k in wanted if k not in given]
    if missing:
        raise RatingError(_("缺少评价指标：%(names)s") % {"names": "、".join(missing)}, "scores")
    checked = {key: _one_level(given[key], "level" if key == "overall" else f"scores.{key}") for key in wanted}
    if level not in (None, "") and _one_level(level, "level") != checked["overall"]:
        raise RatingError(_("评价等级应与“总体评价”一致"), "level")
    return checked["overall"], checked


def end_of_working_day(after: datetime, n: int) -> datetime:
    """24:00 of the n-th working day after `after`'s day (the day itself is not counted)."""
    last = calendar(check=False).add_working_days(local_date(after), n)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz())


def appeal_deadline(rating: Rating) -> datetime:
    return end_of_working_day(rating.rated_at, int(rule("rating_appeal_working_days")))


def _locked(rating: Rating, at: datetime | None = None) -> Rating:
    """The rating under a row lock; a step dated before the rating itself is a mistake."""
    rating = Rating.objects.select_for_update().select_related("organ").get(pk=rating.pk)
    if at is not None and at < rating.rated_at:
        raise RatingError(_("时间早于评价时间"), "at")
    return rating


def _step(rating: Rating, kind: str, at: datetime, text: str = "") -> RatingStep:
    return RatingStep.objects.create(rating=rating, kind=kind, at=at, actor_label=audit_context().label[:150],
                                     text=text)


def can_change(rating: Rating, to: str) -> bool:
    return to in TRANSITIONS[rating.status]


def _set_status(rating: Rating, to: str, kind: str, at: datetime, *, text: str = "",
                fields: tuple[str, ...] = ()) -> RatingStep:
    """The only writer of Rating.status: refuses what the table does not list."""
    if not can_change(rating, to):
        raise RatingError(_("评价当前为“%(now)s”，不能变为“%(to)s”") % {
            "now": S(rating.status).label, "to": S(to).label}, "status")
    before = rating.status
    rating.status = to
    rating.save(update_fields=["status", *fields])
    record("rating.status", rating, changes={"status": [before, to], "step": kind})
    return _step(rating, kind, at, text)


def _clock(rating: Rating) -> Clock | None:
    return Clock.objects.filter(pk=rating.rectification_clock_id).first() if rating.rectification_clock_id else None


def _rated_case(case, organ):
    """The case the organ answers for: the case itself, or its sub-case handled by the organ."""
    from xiaoneng.approvals.models import Case

    case = Case.objects.select_for_update().select_related("matter_version__matter").get(pk=case.pk)
    if case.organ_id == organ.pk:
        return case
    sub = case.subcases.select_related("matter_version__matter").filter(organ=organ).first() if case.is_parallel else None
    if sub is None:
        raise RatingError(_("该办件不是被评价机关办理的"), "case")
    Case.objects.select_for_update().filter(pk=sub.pk).first()
    return sub


def _rater(rater: ident.Identity | None) -> ident.Identity:
    if rater is None or rater.is_empty():
        return ident.Identity()
    who = ident.Identity.of(**{**rater.__dict__, "phone": normalise_phone(rater.phone)})
    error = phone_error(who.phone)
    if error:
        raise RatingError(error, "phone")
    if not who.phone:
        raise RatingError(_("实名评价请留下联系电话，以便差评回访；不愿留下可匿名评价"), "phone")
    if len(who.name) > 50:
        raise RatingError(_("姓名过长：最多 50 字"), "name")
    return who


# --- rating ----------------------------------------------------------------------------
@transaction.atomic
def do_rate_service(*, kind: str, organ, level=None, scores=None, comment: str = "", case=None, matter=None,
                    window: str = "", channel: str = "", rater: ident.Identity | None = None,
                    rated_at: datetime | None = None) -> Rating:
    """Record one rating of one organ's service.

    1. Check time, organ, level and sub-indicators, rater, window, case and matter.
    2. Refuse a second rating of the same case, by anyone (case row locked; unique constraint).
    3. Save; a bad named rating waits for the call-back on a rectification clock.
    """
    at = _at(rated_at, "rated_at")
    if organ is None or not getattr(organ, "is_active", False):
        raise RatingError(_("被评价机关无效"), "organ")
    level, checked = check_scores(kind, level, scores if scores is not None else {})
    comment = comment.strip() if isinstance(comment, str) else ""
    if len(comment) > 2000:
        raise RatingError(_("评价内容过长：最多 %(n)d 字") % {"n": 2000}, "comment")
    window = (window or "").strip()
    if len(window) > 60:
        raise RatingError(_("窗口名称过长：最多 60 字"), "window")
    channel = (channel or "").strip()[:12]
    who = _rater(rater)
    stored = ident.stored(who)

    if case is not None:
        case = _rated_case(case, organ)
        if case.status not in FINISHED_CASE_STATUSES:
            raise RatingError(_("办件尚未办结，办结后方可评价"), "case")
        case_matter = case.matter_version.matter
        if matter is not None and matter.pk != case_matter.pk:
            raise RatingError(_("所选事项与办件的事项不一致"), "matter")
        matter = case_matter
        if Rating.objects.filter(case=case).exists():
            raise already_rated()
    elif kind == RatingKind.OFFLINE:
        if not window:
            raise RatingError(_("窗口服务评价须注明窗口"), "window")
    elif matter is None:
        raise RatingError(_("网上办事评价须关联办件或事项"), "case")
    if matter is not None and case is None and matter.organ_id != organ.pk:
        raise RatingError(_("该事项不是被评价机关实施的"), "matter")

    bad_named = level in BAD_LEVELS and not who.is_empty()
    try:
        with transaction.atomic():  # a savepoint: the constraint's refusal leaves the transaction usable
            rating = Rating.objects.create(
                kind=kind, channel=channel, case=case, matter=matter, organ=organ, region_code=organ.region_code,
                window=window, level=level, scores=checked, comment=comment, rated_at=at, named=not who.is_empty(),
                status=S.CALLBACK if bad_named else S.DONE, **stored,
            )
    except IntegrityError as exc:  # another submit of the same case committed between our check and insert
        raise already_rated() from exc
    if bad_named:
        rating.rectification_clock = clocks.do_start_clock(
            kind=CLOCK_KIND, start_at=at, limit=int(rule("bad_review_rectification_working_days")), unit="working",
            subject=rating, organ=organ, label=f"{_('差评整改')} #{rating.pk} {organ.name}"[:200],
            legal_basis=LEGAL_BASIS,
        )
        rating.save(update_fields=["rectification_clock"])
    _step(rating, K.RATE, at, comment)
    record("rating.rate", rating, changes={"kind": kind, "level": level, "named": rating.named,
                                           "case": case.pk if case else None, "status": rating.status})
    return rating


# --- the organ's answer to a bad review ------------------------------------------------
@transaction.atomic
def do_callback(rating: Rating, *, note: str, at: datetime | None = None) -> Rating:
    """The organ has called the rater back (回访): what they heard goes on record."""
    at = _at(at)
    note = _need(note, "note", _("请填写回访情况"))
    rating = _locked(rating, at)
    if rating.status != S.CALLBACK:
        raise RatingError(_("只有待回访的差评可以登记回访"), "status")
    rating.callback_at, rating.callback_note = at, note
    _set_status(rating, S.RECTIFYING, K.CALLBACK, at, text=note, fields=("callback_at", "callback_note"))
    return rating


@transaction.atomic
def do_report_rectification(rating: Rating, *, report: str, at: datetime | None = None) -> Rating:
    at = _at(at)
    report = _need(report, "report", _("请填写整改情况"))
    rating = _locked(rating, at)
    if rating.status != S.RECTIFYING:
        raise RatingError(_("只有整改中的差评可以反馈整改情况"), "status")
    rating.rectification_report, rating.rectified_at = report, at
    _set_status(rating, S.RECTIFIED, K.REPORT, at, text=report, fields=("rectification_report", "rectified_at"))
    clock = _clock(rating)
    if clock is not None:
        clocks.do_stop_clock(clock, at=max(at, clock.start_at))
    return rating


def tell_text(rating: Rating, text: str) -> str:
    return _("【好差评】您对%(organ)s的评价已整改：%(text)s 感谢您的监督。") % {"organ": rating.organ.name, "text": text}


@transaction.atomic
def do_tell_rater(rating: Rating, *, text: str, at: datetime | None = None) -> Rating:
    """Tell the rater what was rectified, by SMS; the one decryption is a system use, audited."""
    at = _at(at)
    text = _need(text, "text", _("请填写告知评价人的内容"), 300)
    rating = _locked(rating, at)
    if rating.status != S.RECTIFIED:
        raise RatingError(_("整改完成后才能告知评价人"), "status")
    if rating.rater_told_at is not None:
        raise RatingError(_("已告知过评价人"), "text")
    if not rating.named or not rating.identity_enc:
        raise RatingError(_("匿名评价无法告知评价人"), "text")
    who = ident.decrypt(rating.identity_enc)
    record("identity.use", rating, changes={"purpose": "notify:rating.rectified", "fields": ["phone"]})
    queue(to=who.phone, text=tell_text(rating, text), kind="rating.rectified", ref=f"rating:{rating.pk}",
          channel="sms")
    rating.rater_told_at = at
    rating.save(update_fields=["rater_told_at"])
    _step(rating, K.TELL, at, text)
    record("rating.tell", rating, changes={"at": at})
    return rating


# --- appeal ----------------------------------------------------------------------------
@transaction.atomic
def do_appeal_rating(rating: Rating, *, reasons: str, at: datetime | None = None) -> Rating:
    """The organ says a bad review is malicious or mistaken (within the appeal window, once)."""
    at = _at(at)
    reasons = _need(reasons, "reasons", _("申诉须说明理由（恶意评价或误评的事实）"))
    rating = _locked(rating, at)
    if not rating.is_bad:
        raise RatingError(_("只能对差评提出申诉"), "reasons")
    if rating.appealed_at is not None:
        raise RatingError(_("同一评价只能申诉一次"), "reasons")
    if at > appeal_deadline(rating):
        raise RatingError(_("已超过申诉期限（评价后 %(n)d 个工作日）") % {
            "n": int(rule("rating_appeal_working_days"))}, "reasons")
    rating.appeal_reasons, rating.appealed_at = reasons, at
    _set_status(rating, S.APPEALED, K.APPEAL, at, text=reasons, fields=("appeal_reasons", "appealed_at"))
    clock = _clock(rating)
    if clock is not None and clock.state == Clock.State.RUNNING:
        clocks.do_pause_clock(clock, at=max(at, clock.start_at), reason=_("差评申诉待审核"), legal_basis=LEGAL_BASIS)
    return rating


def state_before_appeal(rating: Rating) -> str:
    """Where a refused appeal returns to (rectified ratings cannot be appealed)."""
    if not rating.rectification_clock_id:
        return S.DONE
    return S.CALLBACK if rating.callback_at is None else S.RECTIFYING


@transaction.atomic
def do_decide_rating_appeal(rating: Rating, *, upheld: bool, reasons: str, actor,
                            at: datetime | None = None) -> Rating:
    """A supervisor over the rated organ decides: annul the review, or refuse the appeal."""
    at = _at(at)
    if not isinstance(upheld, bool):
        raise RatingError(_("请选择是否核销该评价"), "upheld")
    reasons = _need(reasons, "reasons", _("申诉处理须说明理由"))
    rating = _locked(rating, at)
    if rating.status != S.APPEALED:
        raise RatingError(_("该评价不在申诉中"), "upheld")
    if at < rating.appealed_at:
        raise RatingError(_("处理时间早于申诉时间"), "at")
    if actor is None or not access.scoped(Rating.objects.filter(pk=rating.pk), actor, "supervise").exists():
        raise RatingError(_("只有被评价机关所在地区的效能监察人员可以处理申诉"), "upheld")
    rating.appeal_decision, rating.decided_at = reasons, at
    to = S.ANNULLED if upheld else state_before_appeal(rating)
    text = (_("核销：%(r)s") if upheld else _("不予核销：%(r)s")) % {"r": reasons}
    _set_status(rating, to, K.DECIDE, at, text=text, fields=("appeal_decision", "decided_at"))
    clock = _clock(rating)
    if clock is not None and clock.state != Clock.State.STOPPED:
        if upheld:
            clocks.do_stop_clock(clock, at=max(at, clock.start_at))
        elif clock.state == Clock.State.PAUSED:
            clocks.do_resume_clock(clock, at=max(at, clock.start_at))
    record("rating.appeal_decision", rating, changes={"upheld": upheld})
    return rating
