"""The exchange inbox pipeline: store raw → decode → parse → validate → apply.

`receive()` is what the API view and the benchmark call; `receive_items()` is what the
file import calls. Both end in `process()`:

1. The body is stored as an `ExchangeBatch` in its own transaction before anything
   else, so nothing is lost whatever happens next (a body that is not valid text is
   stored base64-encoded, noted in `results["raw_encoding"]`).
2. Decoding, JSON parsing and the batch-size check can refuse the whole batch (400 /
   413); the raw body stays stored with the reason.
3. `process()` runs in one transaction that locks the batch row and the source row
   (batches of one source are processed one at a time) and calls `apply_events()`:
   a. every event gets its own result; an event id seen before (in this batch or
      stored, unless it was rejected) is a duplicate and changes nothing, and its
      answer carries the state that event is in (`state`: applied, held, expired, or
      rejected for the same id twice in one batch);
   b. each event is validated (schema.validate);
   c. the events still held for the same cases are taken up again;
   d. all are checked against the source's organs and the catalogue (rules.Context);
   e. each case's events are replayed in `occurred_at` order (replay.CaseReplay) — by
      the set-based fast path (fast.py), which hands the rare event it does not take to
      the per-event path (slow.py);
   f. one `ExchangeEvent` row per event with an id (applied, held or rejected), with
      its lag (received − occurred); held events that moved are updated;
   g. held events of other sources for these cases, and those of parallel applications
      whose sub-cases moved, are offered again; `exchange_processed` is sent.
   h. the answer of an applied submission of a parallel application (and of a duplicate
      of one) lists its sub-cases (`sub_cases`: each co-organ's credit code and the case
      number it reports under), the same whichever path applied it.
   Notifications to applicants are left in the outbox for the background sender
   (`outbox.deferred()`): a batch queues hundreds, and the system that sent it must
   not wait for the SMS gateway.
   An exception escaping `apply_events()` rolls all of it back and leaves the batch
   unprocessed with the error noted; `xiaoneng exchange reprocess` (or
   `process-held`) processes it again later. Replays are harmless by (a).
"""
from __future__ import annotations

import base64
import gc
import json
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import acting_as, record
from xiaoneng.lib.pg import fetch_binary
from xiaoneng.lib.text import storable
from xiaoneng.notify import outbox

from ..models import Case, ExchangeBatch, ExchangeEvent, ExchangeSource
from ..signals import exchange_processed
from . import slow
from .bulk import Row, columns
from .replay import APPLIED, CaseReplay
from .rules import HOLD, REJECT, Context
from .schema import Event, Invalid, may_hold_surrogates, parse_time, validate

log = logging.getLogger(__name__)
State = ExchangeEvent.State
DEFAULTS = {"exchange_batch_max_events": 1000, "exchange_hold_hours": 24, "exchange_late_hours": 24,
            "exchange_batch_max_attempts": 3}
CHARSETS = {"utf-8", "utf8", "gbk", "gb2312", "gb18030"}


def setting(name: str):
    """A programme rule (xiaoneng.conf), with this module's default if conf does not know it yet."""
    from xiaoneng.conf import rule

    try:
        return rule(name)
    except KeyError:
        return DEFAULTS[name]


def max_events() -> int:
    return int(setting("exchange_batch_max_events"))


# --- results ---------------------------------------------------------------------------
ACCEPTED, HELD, DUPLICATE, REJECTED = "accepted", "held", "duplicate", "rejected"


@dataclass
class Result:
    index: int
    event_id: str | None
    result: str
    field: str | None = None
    reason: str | None = None
    state: str | None = None  # a duplicate: the state the event already received is in
    sub_cases: list[dict] | None = None  # an applied parallel submission: [{"organ_code", "case_no"}, …]

    def as_dict(self) -> dict:
        return {"index": self.index, "event_id": self.event_id, "result": self.result,
                "field": self.field or None if self.result != ACCEPTED else None,
                "reason": self.reason or None if self.result != ACCEPTED else None,
                "state": self.state if self.result == DUPLICATE else None,
                "sub_cases": self.sub_cases}


@dataclass
class Receipt:
    """What the API answers: an HTTP status and a JSON body."""

    status: int
    body: dict
    batch: ExchangeBatch | None = None
    results: list[Result] = field(default_factory=list)


class ParseProblem:
    """An item of a file that could not be parsed (a bad JSON line)."""

    def __init__(self, reason: str):
        self.reason = reason


def _summary(batch: ExchangeBatch, results: list[Result], late: int, released: int) -> dict:
    counts = {k: 0 for k in (ACCEPTED, HELD, DUPLICATE, REJECTED)}
    for r in results:
        counts[r.result] += 1
    return {"batch": batch.pk, "received": len(results), **counts, "late": late, "released": released,
            "results": [r.as_dict() for r in results]}


def _error_body(batch: ExchangeBatch | None, message: str, code: str, **extra) -> dict:
    return {"batch": batch.pk if batch else None, "detail": message,
            "errors": [{"field": None, "message": message, "code": code}], **extra}


# --- 1. store raw ---------------------------------------------------------------------------
def decode(body: bytes, content_type: str = "") -> tuple[str | None, str, str]:
    """(text or None, charset used, reason if it cannot be decoded)."""
    charset = "utf-8"
    for part in (content_type or "").split(";")[1:]:
        key, _sep, value = part.strip().partition("=")
        if key.lower() == "charset":
            charset = value.strip().strip('"').lower()
    if charset not in CHARSETS:
        return None, charset, _("不支持的字符集 %(charset)s（请使用 UTF-8）") % {"charset": charset}
    codec = "gb18030" if charset.startswith("gb") else "utf-8-sig"
    try:
        text = body.decode(codec)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        return None, charset, _("请求体不是有效的 %(charset)s 编码（第 %(line)d 行，第 %(pos)d 字节）") % {
            "charset": "UTF-8" if codec == "utf-8-sig" else charset.upper(), "line": line, "pos": exc.start + 1}
    if "\x00" in text:
        return None, charset, _("请求体含有 NUL 字符")
    return text, charset, ""


def store_raw(source: ExchangeSource, body: bytes, text: str | None, *, channel: str = "api",
              received_at: datetime | None = None, extra: dict | None = None) -> ExchangeBatch:
    """Keep the body exactly as received, committed on its own (step 1)."""
    results = dict(extra or {})
    if text is None:
        raw, results["raw_encoding"] = base64.b64encode(body).decode("ascii"), "base64"
    else:
        raw = text
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # No need to wait for this commit's flush: the answer to the sender always follows a
            # later synchronous commit (processing, or the refusal or error noted on the batch), which
            # flushes the log up to and past this one. A crash before that answers nothing, and the
            # sender sends again (a replay is harmless).
            with connection.cursor() as cur:
                cur.execute("SET LOCAL synchronous_commit TO OFF")
        return ExchangeBatch.objects.create(
            source=source, received_at=received_at or timezone.now(), channel=channel, raw=raw, size=len(body),
            results=results,
        )


def raw_bytes(batch: ExchangeBatch) -> bytes:
    if (batch.results or {}).get("raw_encoding") == "base64":
        return base64.b64decode(batch.raw)
    return batch.raw.encode("utf-8")


def _refuse(batch: ExchangeBatch, status: int, message: str, code: str, **extra) -> Receipt:
    results = {**(batch.results or {}), "refused": code, "detail": message, **extra}
    ExchangeBatch.objects.filter(pk=batch.pk).update(processed_at=timezone.now(), error=message, results=results)
    batch.error, batch.results = message, results
    return Receipt(status, _error_body(batch, message, code, **extra), batch)


def _reject_constant(value: str):
    raise ValueError(f"{value} is not valid JSON")


def parse_array(text: str) -> list:
    """The JSON array of a batch; ValueError with a reason a person can act on."""
    try:
        data = json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise ValueError(_("请求体不是有效的 JSON：第 %(line)d 行第 %(col)d 列，%(msg)s") % {
            "line": exc.lineno, "col": exc.colno, "msg": exc.msg}) from None
    except (ValueError, RecursionError):
        raise ValueError(_("请求体不是有效的 JSON（含 NaN、Infinity 或嵌套过深）")) from None
    if not isinstance(data, list):
        raise ValueError(_("请求体必须是事件的 JSON 数组，收到的是 %(kind)s") % {"kind": type(data).__name__})
    return data


def receive(source: ExchangeSource, body: bytes, *, content_type: str = "application/json", channel: str = "api",
            fast: bool = True) -> Receipt:
    """Take one request body from `source` through the whole pipeline."""
    text, charset, problem = decode(body, content_type)
    batch = store_raw(source, body, text, channel=channel,
                      extra={"charset": charset} if charset not in ("utf-8", "utf8") else None)
    return process_stored(batch, text=text, problem=problem, fast=fast)


def refuse_unread(source: ExchangeSource, size: int) -> Receipt:
    """A body too large to read (over DATA_UPLOAD_MAX_MEMORY_SIZE): keep only a record of the refusal."""
    from django.conf import settings

    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    message = _("请求体过大（%(size)d 字节，上限 %(limit)d 字节），未保存，请分批发送（每批最多 %(max)d 条事件）") % {
        "size": size, "limit": limit or 0, "max": max_events()}
    batch = store_raw(source, b"", "", extra={"raw_omitted": True})
    ExchangeBatch.objects.filter(pk=batch.pk).update(size=size)
    return _refuse(batch, 413, message, "too_large", max_events=max_events())


def process_stored(batch: ExchangeBatch, *, text: str | None = None, problem: str = "", fast: bool = True) -> Receipt:
    """Parse a stored API batch and process it (also used to reprocess one)."""
    if text is None and not problem:
        content_type = f"application/json; charset={(batch.results or {}).get('charset', 'utf-8')}"
        text, _charset, problem = decode(raw_bytes(batch), content_type)
    if text is None:
        return _refuse(batch, 400, problem, "encoding")
    try:
        data = parse_array(text)
    except ValueError as exc:
        return _refuse(batch, 400, str(exc), "malformed")
    limit = max_events()
    if len(data) > limit:
        message = _("一批最多 %(max)d 条事件，收到 %(n)d 条，请分批发送") % {"max": limit, "n": len(data)}
        return _refuse(batch, 413, message, "too_large", max_events=limit)
    return process(batch, list(enumerate(data)), fast=fast)


def receive_items(source: ExchangeSource, raw: str, items: list[tuple[int, object]], *, channel: str = "file",
                  extra: dict | None = None, fast: bool = True) -> Receipt:
    """A batch that was split and parsed by its caller (file import): store its text, then process."""
    batch = store_raw(source, raw.encode("utf-8"), raw, channel=channel, extra=extra)
    return process(batch, items, fast=fast)


# --- 3. process ------------------------------------------------------------------------------
@contextmanager
def cyclic_gc_paused():
    """Python's cycle collector paused meanwhile (process-wide; left alone if already paused).

    A batch makes a few hundred thousand objects (rows, results, model instances) that live
    until it ends, so the collector ran full passes over the whole heap several times per batch
    for about a hundred objects in cycles: 7–9% of the pipeline's time, measured. Reference
    counting still frees everything else as usual; those cycles wait for the next collection.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def process(batch: ExchangeBatch, items: list[tuple[int, object]], *, fast: bool = True) -> Receipt:
    source = batch.source
    channel = "command" if batch.channel == "file" else "api"
    try:
        with (cyclic_gc_paused(), acting_as(None, channel=channel, label=f"exchange:{source.code}"),
              outbox.deferred(), transaction.atomic()):
            locked = _lock(batch)
            if locked.processed_at is not None:  # someone else processed it meanwhile
                body = {**(locked.results or {}), "batch": locked.pk}
                return Receipt(200, body, locked)
            results, late, released = apply_events(source, batch, items, fast=fast)
            body = _summary(batch, results, late, released)
            stored = {**(batch.results or {}), **{k: v for k, v in body.items() if k != "results"}}
            stored["problems"] = [r for r in body["results"] if r["result"] != ACCEPTED]
            ExchangeBatch.objects.filter(pk=batch.pk).update(processed_at=timezone.now(), results=stored, error="")
    except Exception as exc:
        log.exception("exchange batch %s failed", batch.pk)
        return _failed(batch, exc)
    return Receipt(200, body, batch, results)


def _failed(batch: ExchangeBatch, exc: Exception) -> Receipt:
    """A batch whose processing raised: noted and left for `process-held` to process again — unless it
    can never succeed. A RecursionError comes from the data itself, and a batch that has failed
    `exchange_batch_max_attempts` times would fail forever, held back by every `process-held`: either
    ends rejected with the reason (processed, so nobody retries it) and the sender is told to fix it."""
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = int((batch.results or {}).get("attempts", 0)) + 1
    if isinstance(exc, RecursionError) or attempts >= int(setting("exchange_batch_max_attempts")):
        message = _("批次无法处理（%(error)s，已尝试 %(n)d 次），已拒收：原始数据已保存（批次 %(batch)d），"
                    "请检查数据后以新批次重发") % {"error": type(exc).__name__, "n": attempts, "batch": batch.pk}
        batch.results = {**(batch.results or {}), "attempts": attempts, "last_error": error}
        return _refuse(batch, 400, message, "unprocessable")  # 400 is the documented refusal
    message = _("处理失败（%(error)s）：原始数据已保存（批次 %(batch)d），将重新处理；重发同一批次也不会重复应用") % {
        "error": type(exc).__name__, "batch": batch.pk}
    batch.results = {**(batch.results or {}), "attempts": attempts}
    ExchangeBatch.objects.filter(pk=batch.pk).update(error=error, results=batch.results)
    return Receipt(500, _error_body(batch, message, "processing_failed"), batch)


def _lock(batch: ExchangeBatch) -> ExchangeBatch:
    """The batch as it is now, its row and its source's locked (both in one query)."""
    qs = ExchangeBatch.objects.select_related("source")
    if connection.features.has_select_for_update:
        qs = qs.select_for_update(of=("self", "source"))
    return qs.get(pk=batch.pk)


def _event_id(obj) -> str | None:
    """The item's event id if it is usable as one (for duplicates and for the stored row)."""
    if isinstance(obj, dict):
        value = obj.get("event_id")
        value = value.strip() if isinstance(value, str) else ""
        if 0 < len(value) <= 100 and value.isprintable():  # what schema.validate accepts as an id
            return value
    return None


def _row(source, batch, ev_id: str, obj, *, ev: Event | None, state: str, field_: str = "", reason: str = "",
         applied_at=None) -> dict:
    """One ExchangeEvent row by attribute names (inserted in bulk, then handed to `exchange_processed`)."""
    received = batch.received_at
    occurred = ev.occurred_at if ev else None
    if occurred is None and isinstance(obj, dict):
        try:
            occurred = parse_time(obj.get("occurred_at"), received)
        except Invalid:
            occurred = None
    payload = obj if isinstance(obj, dict) else {"_item": str(obj)[:500]}
    if ev is None:  # not validated: it may be huge or hold what jsonb refuses (\u0000, "\ud800"); the raw batch has it all
        try:
            dumped = json.dumps(payload, ensure_ascii=False, default=str)
        except (RecursionError, ValueError):  # nested deeper than the encoder goes from here
            dumped = "\\u0000"
        if len(dumped) > 8000 or "\\u0000" in dumped or not storable(dumped):
            payload = {"_omitted": "too large or not storable; see the raw batch"}

    def text(name, n):
        value = obj.get(name) if isinstance(obj, dict) else None
        if not isinstance(value, str):
            return ""
        return value.encode("utf-8", "replace").decode().replace("\x00", "").strip()[:n]

    return Row({
        "source_id": source.pk, "batch_id": batch.pk, "event_id": ev_id,
        "type": ev.type if ev else text("type", 30), "occurred_at": occurred, "received_at": received,
        "lag_seconds": int((received - occurred).total_seconds()) if occurred else None,
        "case_no": ev.case_no if ev else text("case_no", 64), "organ_code": ev.organ_code if ev else text("organ_code", 18),
        "payload": payload, "state": state, "error_field": (field_ or "")[:60], "error_reason": (reason or "")[:500],
        "applied_at": applied_at,
    })


def apply_events(source: ExchangeSource, batch: ExchangeBatch, items: list[tuple[int, object]], *,
                 fast: bool = True) -> tuple[list[Result], int, int]:
    """Steps 3a–3g of the module docstring; returns the per-event results, how many were late,
    and how many events held from earlier batches were applied."""
    received = batch.received_at
    late_after = timedelta(hours=float(setting("exchange_late_hours"))).total_seconds()
    results: list[Result | None] = [None] * len(items)
    rows: dict[str, dict] = {}  # event_id → ExchangeEvent row to insert
    # (a) duplicates: within the batch, then against stored events
    ids = [_event_id(obj) for _i, obj in items]
    stored_rows = stored_events(source, [i for i in ids if i], STORED_FIELDS)
    stored = {ev_id: state for ev_id, state, *_rest in stored_rows}
    resent_rejected = [i for i, state in stored.items() if state == State.REJECTED]
    seen: dict[str, int] = {}  # event id → position of its first occurrence in this batch
    duplicates: dict[int, int | None] = {}  # position → that first occurrence (None: stored before)
    candidates: list[tuple[int, str | None, object]] = []
    for pos, ((index, obj), ev_id) in enumerate(zip(items, ids, strict=True)):
        if ev_id is not None and (ev_id in seen or stored.get(ev_id, State.REJECTED) != State.REJECTED):
            results[pos] = Result(index, ev_id, DUPLICATE, "event_id")  # the reason once its state is final
            duplicates[pos] = seen.get(ev_id)
            continue
        if ev_id is not None:
            seen[ev_id] = pos
        candidates.append((pos, ev_id, obj))
    if resent_rejected:  # a corrected event may be sent again under the id that was rejected
        ExchangeEvent.objects.filter(source=source, event_id__in=resent_rejected, state=State.REJECTED).delete()
    # (b) validation
    valid: list[Event] = []
    surrogates = may_hold_surrogates(batch.raw or "")
    for pos, ev_id, obj in candidates:
        index = items[pos][0]
        try:
            if isinstance(obj, ParseProblem):
                raise Invalid("", obj.reason)
            ev = validate(obj, received, index, surrogates=surrogates)
        except Invalid as exc:
            results[pos] = Result(index, ev_id, REJECTED, exc.field, exc.reason)
            if ev_id is not None:
                rows[ev_id] = _row(source, batch, ev_id, obj, ev=None, state=State.REJECTED, field_=exc.field,
                                   reason=exc.reason)
            continue
        ev.pos = pos
        valid.append(ev)
    # (c) the events still waiting for these cases
    waiting, foreign = load_held({ev.case_no for ev in valid}, source)
    # (d) the source's rights and the catalogue
    ctx = Context(source, valid + waiting)
    todo: list[Event] = []
    for ev in valid:
        verdict = ctx.check(ev)
        if verdict.action == REJECT:
            results[ev.pos] = Result(ev.index, ev.event_id, REJECTED, verdict.field, verdict.reason)
            rows[ev.event_id] = _row(source, batch, ev.event_id, ev.raw, ev=ev, state=State.REJECTED,
                                     field_=verdict.field, reason=verdict.reason)
        else:
            todo.append(ev)
    updates: list[tuple] = []
    for ev in waiting:
        verdict = ctx.check(ev)
        if verdict.action == REJECT:
            updates.append((ev.stored_id, State.REJECTED, None, verdict.field[:60], verdict.reason[:500]))
        else:
            todo.append(ev)
    # (e) apply, case by case in occurred_at order
    replays = run_replays(ctx, batch, todo, fast=fast)
    now = timezone.now()
    released = 0
    for replay in replays:
        for ev in replay.events:
            verdict = replay.verdict(ev)
            if ev.stored_id is not None:
                update = _stored_update(ev, verdict, now)
                if update:
                    released += update[1] == State.APPLIED
                    updates.append(update)
                continue
            if verdict.action == APPLIED:
                results[ev.pos] = Result(ev.index, ev.event_id, ACCEPTED)
                rows[ev.event_id] = _row(source, batch, ev.event_id, ev.raw, ev=ev, state=State.APPLIED,
                                         applied_at=now)
            else:
                state, outcome = (State.HELD, HELD) if verdict.action == HOLD else (State.REJECTED, REJECTED)
                results[ev.pos] = Result(ev.index, ev.event_id, outcome, verdict.field, verdict.reason)
                rows[ev.event_id] = _row(source, batch, ev.event_id, ev.raw, ev=ev, state=state,
                                         field_=verdict.field, reason=verdict.reason)
    # (f) the events' rows
    from .bulk import writer

    w = writer()
    w.insert(ExchangeEvent, list(rows.values()))
    w.update(ExchangeEvent, ["state", "applied_at", "error_field", "error_reason"], updates)
    # (g) held events of these cases that other sources sent, and of the parallel applications whose
    # sub-cases moved (an application's decision waits for its sub-cases)
    parents = set()
    handed = [r.case_no for r in replays if r.handed]
    if handed:
        parents = set(Case.objects.filter(case_no__in=handed, parent__isnull=False).values_list(
            "parent__case_no", flat=True))
    if foreign or parents:
        changed, changed_ids = retry_held(foreign | parents)
        updates.extend((i,) for i in changed_ids)
        released += sum(v.action == APPLIED for k, v in changed.items() if k not in rows)
        for pos, r in enumerate(results):
            if r is not None and r.result == HELD and r.event_id in changed and r.event_id in rows:
                v = changed[r.event_id]
                results[pos] = Result(r.index, r.event_id, ACCEPTED) if v.action == APPLIED else Result(
                    r.index, r.event_id, REJECTED, v.field, v.reason)
    # (h) what the answers tell beyond the result: sub-cases, and the state of what was received before
    _tell_sub_cases(results, valid, ctx, stored_rows, duplicates)
    _tell_duplicates(source, results, duplicates, stored)
    late = sum(1 for row in rows.values() if row["lag_seconds"] is not None and row["lag_seconds"] > late_after)
    announce(batch, list(rows.values()), [u[0] for u in updates])
    return [r for r in results if r is not None], late, released


STATE_OF_RESULT = {ACCEPTED: State.APPLIED, HELD: State.HELD, REJECTED: State.REJECTED}


def _tell_duplicates(source: ExchangeSource, results: list[Result | None], duplicates: dict[int, int | None],
                     stored: dict[str, str]) -> None:
    """Give each duplicate the state its event is in now, after this batch: the first occurrence's in this
    batch, or the stored one's (read again if it was waiting, as this batch may have let it through)."""
    waiting = [results[pos].event_id for pos, first in duplicates.items()
               if first is None and stored[results[pos].event_id] != State.APPLIED]
    now = dict(stored_events(source, waiting, ["event_id", "state"])) if waiting else {}
    for pos, first in duplicates.items():
        r = results[pos]
        if first is None:
            r.state = str(now.get(r.event_id, stored[r.event_id]))
            r.reason = _("该事件已收到过（%(state)s），未重复应用") % {"state": State(r.state).label}
        else:
            r.reason = _("同一批次中重复的事件编号")
            if results[first] is not None:
                r.state = str(STATE_OF_RESULT[results[first].result])
                r.sub_cases = results[first].sub_cases


def _tell_sub_cases(results: list[Result | None], valid: list[Event], ctx: Context, stored_rows,
                    duplicates: dict[int, int | None]) -> None:
    """A parallel application opens a sub-case with the lead organ and each co-organ, numbered `<no>-01`… in
    the order of the organs' ids (actions.do_submit_case): the answer tells each organ's system its number.
    One query, and none unless an applied submission of a parallel matter (or a duplicate of a submission
    applied before, whose matter is not looked up) is in the batch."""
    wanted: dict[str, list[Result]] = {}
    for ev in valid:
        r = results[ev.pos]
        if ev.type != "submitted" or r.result != ACCEPTED:
            continue
        matter = ctx.matters.get(ev.matter_code)
        version = matter.version_at(ev.occurred_at) if matter else None
        if version is not None and version.obj.is_parallel:
            wanted.setdefault(ev.case_no, []).append(r)
    submissions = {ev_id: case_no for ev_id, state, type_, case_no in stored_rows
                   if state == State.APPLIED and type_ == "submitted"}
    for pos, first in duplicates.items():
        if first is None and results[pos].event_id in submissions:
            wanted.setdefault(submissions[results[pos].event_id], []).append(results[pos])
    if not wanted:
        return
    subs: dict[str, list[dict]] = {}
    for parent, case_no, organ_code in Case.objects.filter(parent__case_no__in=list(wanted)).order_by(
            "case_no").values_list("parent__case_no", "case_no", "organ__credit_code"):
        subs.setdefault(parent, []).append({"organ_code": organ_code, "case_no": case_no})
    for case_no, answers in wanted.items():
        for r in answers:
            r.sub_cases = subs.get(case_no)


def announce(batch: ExchangeBatch | None, events: list[Row], changed_ids=()) -> None:
    """Send `signals.exchange_processed` with the events of a batch (their rows) and the held ones it moved.

    Electronic supervision listens (data timeliness, process anomalies). Its alerts are
    written in this transaction, in a savepoint: if a listener fails, the failure is logged
    and the events stay applied — the inbox must not refuse data because a check broke.
    """
    if not exchange_processed.has_listeners():
        return
    if changed_ids:  # as they are now (a row inserted held a moment ago may have been applied since)
        latest = {(e.source_id, e.event_id): e for e in ExchangeEvent.objects.filter(pk__in=list(changed_ids))}
        events = [latest.pop((e.source_id, e.event_id), e) for e in events] + list(latest.values())
    if not events:
        return
    from .fast import STATS

    started = time.perf_counter()
    try:
        with transaction.atomic():
            exchange_processed.send(sender=ExchangeBatch, batch=batch, events=events)
    except Exception:
        log.exception("a listener of exchange_processed failed (batch %s)", batch.pk if batch else "-")
    STATS["listener_seconds"] += time.perf_counter() - started


def _stored_update(ev: Event, verdict, now) -> tuple | None:
    """The change to a held event's row after it was offered again (None: nothing changed)."""
    if verdict is None:
        return None
    if verdict.action == APPLIED:
        return (ev.stored_id, State.APPLIED, now, "", "")
    if verdict.action == REJECT:
        return (ev.stored_id, State.REJECTED, None, verdict.field[:60], verdict.reason[:500])
    if (verdict.field[:60], verdict.reason[:500]) != ev.stored_error:
        return (ev.stored_id, ev.stored_state, None, verdict.field[:60], verdict.reason[:500])
    return None


STORED_FIELDS = ["event_id", "state", "type", "case_no"]


def stored_events(source: ExchangeSource, event_ids: list[str], fields: list[str]) -> list[tuple]:
    """`fields` of the events of `source` already stored under these ids."""
    if connection.vendor != "postgresql":
        return list(ExchangeEvent.objects.filter(source=source, event_id__in=event_ids).values_list(*fields))
    # A thousand ids as one array parameter, not a thousand literals in the SQL text.
    return [tuple(row) for row in fetch_binary(
        f'SELECT {columns(ExchangeEvent, fields)} FROM "{ExchangeEvent._meta.db_table}" '
        f'WHERE {columns(ExchangeEvent, ["source_id"])} = %s AND {columns(ExchangeEvent, ["event_id"])} = ANY(%b)',
        [source.pk, event_ids])]



HELD_FIELDS = ("id", "source_id", "case_no", "state", "payload", "received_at", "error_field", "error_reason")


def _held_rows(case_nos: list[str]) -> list[Row]:
    """Held and expired events of these cases (`HELD_FIELDS`), oldest first, row-locked unless another
    transaction has them: rows another transaction is retrying right now are its business (process-held
    and a batch may meet on one case); locking the rest makes their state changes ours alone."""
    states = [State.HELD, State.EXPIRED]
    if connection.vendor != "postgresql":
        qs = ExchangeEvent.objects.filter(state__in=states, case_no__in=case_nos).order_by("occurred_at", "id")
        return [Row(zip(HELD_FIELDS, r, strict=True)) for r in qs.values_list(*HELD_FIELDS)]
    c = {n: columns(ExchangeEvent, [n]) for n in ("state", "case_no", "occurred_at", "id")}
    rows = fetch_binary(
        f'SELECT {columns(ExchangeEvent, HELD_FIELDS)} FROM "{ExchangeEvent._meta.db_table}" '
        f'WHERE {c["state"]} = ANY(%b) AND {c["case_no"]} = ANY(%b) ORDER BY {c["occurred_at"]}, {c["id"]} '
        "FOR UPDATE SKIP LOCKED", [states, case_nos])
    return [Row(zip(HELD_FIELDS, r, strict=True)) for r in rows]


def load_held(case_nos, source: ExchangeSource | None) -> tuple[list[Event], set[str]]:
    """Held and expired events of these cases: those of `source` (all sources if None) as events,
    and the case numbers that also have events waiting from other sources."""
    events, foreign = [], set()
    case_nos = [c for c in case_nos if c]
    for i in range(0, len(case_nos), 2000):
        for row in _held_rows(case_nos[i:i + 2000]):
            if source is not None and row.source_id != source.pk:
                foreign.add(row.case_no)
                continue
            try:
                ev = validate(row.payload, row.received_at)
            except Invalid as exc:  # it was valid when it came; keep the record straight if the rules changed
                ExchangeEvent.objects.filter(pk=row.pk).update(state=State.REJECTED, error_field=exc.field[:60],
                                                                error_reason=exc.reason[:500])
                continue
            ev.stored_id, ev.stored_state, ev.stored_error = row.pk, row.state, (row.error_field, row.error_reason)
            ev.source_id = row.source_id
            events.append(ev)
    return events, foreign


def _order(ev: Event):
    return (ev.occurred_at, 0 if ev.stored_id is not None else 1, ev.stored_id or ev.pos or 0)


def run_replays(ctx: Context, batch: ExchangeBatch, events: list[Event], *, fast: bool = True) -> list[CaseReplay]:
    """Group by case, replay each case in occurred_at order: fast path first (if asked), per-event path for the rest."""
    by_case: dict[str, list[Event]] = {}
    for ev in sorted(events, key=_order):
        by_case.setdefault(ev.case_no, []).append(ev)
    replays = [CaseReplay(no, evs) for no, evs in by_case.items()]
    todo = replays
    if fast and replays:
        from .fast import Fast

        todo = Fast(ctx, batch).run(replays)
    apply = slow.applier(ctx)
    for replay in todo:
        replay.handed = True
        replay.run(apply)
    return replays


# --- held events ------------------------------------------------------------------------------
def retry_held(case_nos) -> tuple[dict[str, object], list[int]]:
    """Offer the held (and expired) events of these cases again, case by case, oldest first.

    Returns {event_id: verdict} for the events whose state changed, and the ids of the rows changed.
    """
    events, _foreign = load_held(case_nos, None)
    by_source: dict[int, list[Event]] = {}
    for ev in events:
        by_source.setdefault(ev.source_id, []).append(ev)
    contexts = {sid: Context(ExchangeSource.objects.get(pk=sid), evs) for sid, evs in by_source.items()}
    appliers = {sid: slow.applier(ctx) for sid, ctx in contexts.items()}
    changed: dict[str, object] = {}
    updates = []
    now = timezone.now()
    todo = []
    for ev in events:
        verdict = contexts[ev.source_id].check(ev)
        if verdict.action == REJECT:
            updates.append((ev.stored_id, State.REJECTED, None, verdict.field[:60], verdict.reason[:500]))
            changed[ev.event_id] = verdict
        else:
            todo.append(ev)
    by_case: dict[str, list[Event]] = {}
    for ev in sorted(todo, key=_order):
        by_case.setdefault(ev.case_no, []).append(ev)
    for no, evs in by_case.items():
        replay = CaseReplay(no, evs)
        replay.run(lambda ev: appliers[ev.source_id](ev))
        for ev in evs:
            update = _stored_update(ev, replay.verdict(ev), now)
            if update:
                updates.append(update)
                if update[1] != ev.stored_state:
                    changed[ev.event_id] = replay.verdict(ev)
    from .bulk import writer

    writer().update(ExchangeEvent, ["state", "applied_at", "error_field", "error_reason"], updates)
    return changed, [u[0] for u in updates]


def expire_held(now: datetime | None = None) -> list[int]:
    """Flag events held longer than `exchange_hold_hours` as expired; returns their ids."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=float(setting("exchange_hold_hours")))
    qs = ExchangeEvent.objects.filter(state=State.HELD, received_at__lt=cutoff)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    ids = list(qs.values_list("pk", flat=True))
    ExchangeEvent.objects.filter(pk__in=ids).update(
        state=State.EXPIRED, error_reason=_("等待前序事件超时（超过 %(h)s 小时）") % {"h": setting("exchange_hold_hours")},
    )
    return ids


def unprocessed(older_than: timedelta = timedelta(minutes=5), now: datetime | None = None):
    now = now or timezone.now()
    return ExchangeBatch.objects.filter(processed_at__isnull=True, received_at__lt=now - older_than).order_by("id")


def reprocess(batch: ExchangeBatch, *, fast: bool = True) -> Receipt:
    """Process a stored batch again (after a crash); replays are duplicates, so this is safe."""
    if batch.channel == "file":
        from .files import items_from_batch

        return process(batch, items_from_batch(batch), fast=fast)
    return process_stored(batch, fast=fast)


def process_held(now: datetime | None = None, *, older_than: timedelta = timedelta(minutes=5)) -> dict:
    """The `exchange process-held` command: reprocess stranded batches, retry held events, expire old ones.

    1. Batches left unprocessed by a crash (older than `older_than`) are processed again.
    2. Every held or expired event is offered again, case by case, oldest first.
    3. Events still held longer than `exchange_hold_hours` are flagged expired.
    """
    with outbox.deferred():  # like a batch's, the released events' notifications go through the sender
        return _process_held(now or timezone.now(), older_than)


def _process_held(now: datetime, older_than: timedelta) -> dict:
    batches = 0
    for batch in unprocessed(older_than, now):
        batches += reprocess(batch).status == 200
    case_nos = sorted(set(
        ExchangeEvent.objects.filter(state__in=[State.HELD, State.EXPIRED]).values_list("case_no", flat=True)
    ))
    applied = rejected = 0
    with transaction.atomic():
        changed, changed_ids = retry_held(case_nos)
        applied = sum(1 for v in changed.values() if v.action == APPLIED)
        rejected = sum(1 for v in changed.values() if v.action == REJECT)
        expired_ids = expire_held(now)
        expired = len(expired_ids)
        if applied or rejected or expired:
            record("exchange.process_held", None, object_type="approvals.exchangeevent",
                   changes={"applied": sorted(k for k, v in changed.items() if v.action == APPLIED),
                            "rejected": rejected, "expired": expired})
        announce(None, [], changed_ids + expired_ids)
    still = ExchangeEvent.objects.filter(state=State.HELD).count()
    return {"batches": batches, "applied": applied, "rejected": rejected, "expired": expired, "held": still}
