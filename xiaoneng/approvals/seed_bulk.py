"""The bulk path of the case seed: millions of cases for benchmarks, in minutes.

The demo set (xiaoneng.approvals.seed) runs every case through the actions, at about a
hundred and fifty queries a case; ten million cases that way would take weeks. Here a year of
cases is drawn with numpy in chunks of CHUNK, their deadlines are computed vectorised on
the working-day calendar (the same arithmetic as xiaoneng.clocks.engine, so a
`recompute` of these clocks changes nothing), and the rows are loaded with PostgreSQL
COPY (``executemany`` INSERTs on other databases).

What it writes, per case, with ids reserved from the tables' sequences so the rows link
up without updates:

- ``approvals_case`` — matter version in force, organ and region, applicant, status,
  received / accepted / decided / certified / closed times, outcome and reasons, fee
  charged, the deemed-acceptance and extension flags, and its clocks;
- ``clocks_clock`` — the correction clock (always), the promise and legal clocks (once
  accepted), the certificate clock (once granted): start, limit, unit, legal basis,
  state, stop time, extension days, ``warn_at``/``due_at``/``provisional`` and
  ``next_check_at`` exactly as the engine derives them;
- ``clocks_clockpause`` / ``clocks_clockextension`` — for suspended and extended cases;
- ``approvals_statuschange`` — one row per status change, as ``set_status`` writes them.

What it skips (and why): handling steps and their clocks (``approvals_casestep``),
parallel applications (their matters are left to the demo set), case events
(correction items, step completions, fee records — the fee charged is on the case),
the applicant's verification code (bulk cases cannot be looked up publicly),
notifications, the signals electronic supervision listens to (no alerts are raised for
bulk history), and per-row audit entries: the seed command writes one summary entry for
the step. Clocks are as the workflow leaves them before any monitoring pass (no
``warned_at``/``overdue_at``); the first `runclocks` pass finds the overdue ones.

On PostgreSQL the load is one transaction, with the five tables locked against other
writers (readers go on — except during a big load, whose dropped indexes lock the
tables for the transaction). When a load at least doubles the case table and adds more
than REBUILD_FROM cases, the secondary indexes and unique constraints of the loaded
tables are dropped first and rebuilt at the end (much faster than maintaining them
row by row); as a superuser the foreign-key triggers are skipped
(``session_replication_role = replica``) because every reference is built valid;
otherwise each COPY is checked as it ends (``SET CONSTRAINTS ALL IMMEDIATE``). All of it
is undone by a rollback.

Measured on the 2-core development machine (shared, load ~3): 100,000 cases in 8 s,
10,000,000 cases with 37.5 million clocks in 17 minutes (5 of them rebuilding indexes),
about 20 GB on disk.
"""
from __future__ import annotations

import random
import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.audit.log import current as audit_context
from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks.engine import warn_remaining
from xiaoneng.clocks.models import Clock, ClockExtension, ClockPause
from xiaoneng.lib.workdays import CALENDAR, FIRST_ORDINAL, N_DAYS, WORKING, WorkCalendar, day_index

from . import seed
from .models import Case, Matter, StatusChange

BULK_MARK = "XB"  # bulk case numbers: XB + region + received date + sequence
CHUNK = 100_000
REBUILD_FROM = 50_000
NONE = np.iinfo(np.int64).min  # "no value" in int64 arrays of ids, days and moments
TABLES = (Clock, Case, StatusChange, ClockPause, ClockExtension)
S = {name: i for i, name in enumerate(
    ("submitted", "correction_requested", "corrected", "accepted", "refused", "suspended", "decided", "certified",
     "closed", "withdrawn"))}
STATUS_NAMES = np.array(list(S), dtype=object)


# --- the universe: matters to draw from ----------------------------------------------------


@dataclass
class Universe:
    """Parallel arrays, one entry per eligible matter (its version in force)."""

    version: np.ndarray
    organ: np.ndarray
    region: np.ndarray  # the organ's region prefix (Case.region_code, Clock.region_code)
    region6: np.ndarray  # for case numbers
    weight: np.ndarray
    promised: np.ndarray
    promised_calendar: np.ndarray  # bool: the promise counts calendar days
    legal: np.ndarray
    legal_calendar: np.ndarray
    extension_max: np.ndarray
    correction_limit: np.ndarray
    certificate_limit: np.ndarray
    fee: np.ndarray  # 0 for a free matter
    names_start: np.ndarray  # applicant names of this matter: names[start : start + count]
    names_count: np.ndarray
    lower_start: np.ndarray  # first-review organs: lower[start : start + count] (count 0: none)
    lower_count: np.ndarray
    names: np.ndarray
    lower: np.ndarray


def universe(rng: np.random.Generator) -> Universe:
    """Seeded matters that are not parallel, with everything the generator needs."""
    pyrng = random.Random(int(rng.integers(1 << 31)))
    organs = {o.pk: o for o in seed.seeded_organs()}
    cities = {o.region.code[:4]: o.region.name for o in organs.values() if o.region.level == 2}
    rows, names, name_pools, lower, lower_pools = [], [], {}, [], {}
    matters = Matter.objects.filter(organ__in=seed.seeded_organs().values("pk"), current__is_parallel=False)
    matters = matters.select_related("current")
    for matter in matters.order_by("pk"):
        spec = seed.spec_of(matter.code)
        if spec is None:
            continue
        organ, v = organs[matter.organ_id], matter.current
        place = cities.get(organ.region.code[:4], "广东") if organ.region.level > 1 else "广东"
        pool_key = (place, spec.template, spec.person)
        if pool_key not in name_pools:
            name_pools[pool_key] = (len(names), 300)
            names.extend(seed.applicant_name(pyrng, spec, place) for _ in range(300))
        lower_key = (spec.template, organ.region.code) if v.needs_first_review else None
        if lower_key and lower_key not in lower_pools:
            level = organ.region.level
            found = sorted(o.pk for o in organs.values() if o.region.level == level + 1
                           and int(o.credit_code[13:15]) == spec.template
                           and o.region.code.startswith(organ.region.code[: 2 if level == 1 else 4]))
            lower_pools[lower_key] = (len(lower), len(found))
            lower.extend(found)
        rows.append((
            v.pk, organ.pk, organ.region_code, organ.region.code[:6], spec.weight, v.promised_limit,
            v.promised_unit == CALENDAR, v.legal_limit, v.legal_unit == CALENDAR, v.extension_max, v.correction_limit,
            v.certificate_limit, 0 if v.is_free else float(v.fee_standard or 0), *name_pools[pool_key],
            *(lower_pools[lower_key] if lower_key else (0, 0)),
        ))
    if not rows:
        raise RuntimeError("bulk seed: no seeded matters; run the matters step first")
    cols = list(zip(*rows, strict=True))
    ints = lambda i: np.array(cols[i], dtype=np.int64)  # noqa: E731
    return Universe(
        version=ints(0), organ=ints(1), region=np.array(cols[2], dtype=object), region6=np.array(cols[3], dtype=object),
        weight=np.array(cols[4], dtype=float), promised=ints(5), promised_calendar=np.array(cols[6], dtype=bool),
        legal=ints(7), legal_calendar=np.array(cols[8], dtype=bool), extension_max=ints(9), correction_limit=ints(10),
        certificate_limit=ints(11), fee=np.array(cols[12], dtype=float), names_start=ints(13), names_count=ints(14),
        lower_start=ints(15), lower_count=ints(16), names=np.array(names, dtype=object),
        lower=np.array(lower or [0], dtype=np.int64),
    )


# --- time on the calendar -------------------------------------------------------------------


class Days:
    """Vectorised working-day arithmetic and local moments, as epoch seconds."""

    def __init__(self, cal: WorkCalendar, zone: ZoneInfo, first: date, last: date):
        self.cal, self.zone = cal, zone
        self.base = day_index(first)
        n = (last - first).days + 1
        # Local midnight of every day in range, as epoch seconds (time zones may shift).
        self.midnight = np.array(
            [int(datetime.combine(first + timedelta(days=i), time(0), tzinfo=zone).timestamp()) for i in range(n + 1)],
            dtype=np.int64,
        )

    def add(self, days: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The n-th working day after each day (n <= 0: the day itself)."""
        return self.cal.due_indices(days, np.maximum(n, 0), WORKING)

    def working(self, days: np.ndarray) -> np.ndarray:
        return self.cal.next_working[days]

    def span(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working days in (a, b]."""
        return np.maximum(self.cal.cum[b].astype(np.int64) - self.cal.cum[a], 0)

    def due(self, start: np.ndarray, n: np.ndarray, calendar: np.ndarray) -> np.ndarray:
        working = self.cal.due_indices(start, n, WORKING)
        days = self.cal.due_indices(start, n, CALENDAR)
        return np.where(calendar, days, working)

    def at(self, days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        return self.midnight[days - self.base] + seconds

    def end_of(self, days: np.ndarray) -> np.ndarray:
        """24:00 of each day."""
        return self.midnight[days + 1 - self.base]

    def day_of(self, moments: np.ndarray) -> np.ndarray:
        """The local day index of each moment."""
        return np.searchsorted(self.midnight, moments, side="right") - 1 + self.base


# --- drawing a chunk of cases ------------------------------------------------------------------


def _office(rng, n) -> np.ndarray:
    return rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, n)


def _after(days: Days, rng, day: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """A moment in office hours on `day`, later than `previous`."""
    return np.maximum(days.at(day, _office(rng, day.size)), previous + rng.integers(300, 5400, day.size))


@dataclass
class Chunk:
    case: dict
    clocks: dict
    pauses: dict
    extensions: dict
    changes: dict
    counts: dict


class Timeline(SimpleNamespace):
    """Per-case arrays of one chunk: the matter index `m`, the receipt day `rd`, path flags
    (corr, corr_late, refused, deemed, suspend, extend, withdraw, granted, …) and the moment
    of every event (`t_*`, NONE when the case never gets there)."""

    def past(self, t: np.ndarray) -> np.ndarray:
        return (t != NONE) & (t <= self.now)


def timeline(rng: np.random.Generator, u: Universe, days: Days, n: int, now: int, received_days: np.ndarray) -> Timeline:
    """The paths and proportions of the demo set (seed.plan_case), drawn as arrays.

    1. Matter (by volume), receipt on a working day of the year.
    2. Before acceptance: correction (on time, or late → deemed accepted), refusal, late acceptance.
    3. Decision day against the promise and the law; suspension; extension; withdrawal.
    4. Certificate and closing. Events after `now` stay in the arrays; `Timeline.past` cuts them.
    """
    m = rng.choice(u.weight.size, size=n, p=u.weight / u.weight.sum())
    rd = received_days[rng.integers(0, received_days.size, n)]
    t_recv = np.minimum(days.at(rd, _office(rng, n)), now - rng.integers(1800, 36000, n))
    rd = days.day_of(t_recv)

    # 2. Before acceptance.
    r = rng.random(n)
    corr = r < 0.16
    corr_late = r < 0.018
    refuse_direct = (r >= 0.16) & (r < 0.19)
    late_accept = (r >= 0.19) & (r < 0.2)
    refuse_after_corr = corr & ~corr_late & (rng.random(n) < 0.08)  # a late notice has deemed it accepted
    refused = refuse_direct | refuse_after_corr
    deemed = corr_late | late_accept
    corr_day = days.add(rd, np.where(corr_late, rng.integers(6, 10, n), rng.integers(1, 5, n)))
    t_corr = np.where(corr, _after(days, rng, corr_day, t_recv), NONE)
    corrected_day = days.add(corr_day, rng.integers(2, 9, n))
    t_corrected = np.where(corr, _after(days, rng, corrected_day, t_corr), NONE)
    base_day = np.where(corr, corrected_day, rd)
    base_t = np.where(corr, t_corrected, t_recv)
    t_refuse = np.where(refused, _after(days, rng, days.add(base_day, rng.integers(1, 4, n)), base_t), NONE)
    accept_day = np.where(late_accept, days.add(rd, rng.integers(6, 9, n)),
                          days.add(base_day, rng.choice([0, 0, 1, 1, 1, 2], n)))
    accepted = ~refused
    t_accept = np.where(accepted, _after(days, rng, accept_day, base_t), NONE)

    # 3. The decision day: 80% well within the promise, 13% near it, 4% late against the
    # promise, 3% against the law (half of those extended, most then in time).
    start_day = np.where(deemed, rd, accept_day)
    promise_due = days.due(start_day, u.promised[m], u.promised_calendar[m])
    legal_due = days.due(start_day, u.legal[m], u.legal_calendar[m])
    span = np.maximum(promise_due - start_day, 1)
    q = rng.random(n)
    within = start_day + np.maximum(1, np.rint(span * rng.uniform(0.15, 0.7, n))).astype(np.int64)
    near = start_day + np.maximum(1, np.rint(span * rng.uniform(0.7, 1.0, n))).astype(np.int64)
    near = np.minimum(days.working(near), promise_due)
    past_promise = promise_due + 1 + (rng.random(n) * np.maximum(legal_due - promise_due, 1)).astype(np.int64)
    maximum = u.extension_max[m]
    ext_days = np.where(rng.random(n) < 0.67, maximum, np.maximum(maximum // 2, 1))
    extend = ((q >= 0.97) | ((q >= 0.93) & (legal_due <= promise_due))) & (rng.random(n) < 0.55)
    in_extension = days.add(legal_due, 1 + (rng.random(n) * ext_days).astype(np.int64))
    past_extension = days.add(days.add(legal_due, ext_days), rng.integers(1, 4, n))
    decide_day = np.select(
        [q < 0.8, q < 0.93, (q < 0.97) & (legal_due > promise_due), extend],
        [within, near, past_promise, np.where(rng.random(n) < 0.8, in_extension, past_extension)],
        days.add(legal_due, rng.integers(1, 7, n)),
    )
    decide_day = np.maximum(days.working(decide_day), accept_day)
    ext_days = np.where(extend, ext_days, 0)

    withdraw = accepted & ~extend & (rng.random(n) < 0.025)
    suspend = accepted & ~withdraw & (rng.random(n) < 0.08)
    handling = days.span(accept_day, decide_day)
    susp_day = days.add(accept_day, np.maximum(1, np.rint(handling * rng.uniform(0.2, 0.5, n))).astype(np.int64))
    announced = rng.choice([5, 7, 7, 10, 10, 15, 15, 20, 30], n)
    resume_day = days.working(susp_day + np.maximum(1, announced + rng.integers(-2, 4, n)))
    stood = days.span(susp_day, resume_day)  # the decision moves by the working days stood still
    decide_day = np.where(suspend, np.where(decide_day > susp_day, days.add(decide_day, stood), days.add(resume_day, 1)),
                          decide_day)
    t_susp = np.where(suspend, _after(days, rng, susp_day, t_accept), NONE)
    t_resume = np.where(suspend, _after(days, rng, resume_day, t_susp), NONE)

    ext_day = days.working(np.maximum(accept_day, legal_due - rng.integers(1, 5, n)))
    ext_day = np.where(suspend & (ext_day >= susp_day) & (ext_day <= resume_day), resume_day, ext_day)
    ext_day = np.minimum(ext_day, decide_day)
    after_ext = np.where(suspend & (ext_day == resume_day), t_resume, t_accept)
    # An extension reaches only the clocks whose period still runs (actions.do_extend_case): the
    # promise, usually over by then, keeps its date (a suspension before its end moves that end).
    promise_end = np.where(suspend & (susp_day < promise_due), days.add(promise_due, stood), promise_due)
    ext_in_promise = extend & (ext_day <= promise_end)
    t_extend = np.where(extend, _after(days, rng, ext_day, after_ext), NONE)
    withdraw_day = days.add(accept_day, np.maximum(1, np.rint(handling * rng.uniform(0.2, 0.8, n))).astype(np.int64))
    t_withdraw = np.where(withdraw, _after(days, rng, withdraw_day, t_accept), NONE)

    # 4. Decision, certificate (3% late), closing.
    decided = accepted & ~withdraw
    t_decide = np.where(decided, _after(days, rng, decide_day, np.maximum.reduce([t_accept, t_resume, t_extend])), NONE)
    granted = decided & (rng.random(n) > 0.06)
    cert_late = rng.random(n) < 0.03
    cert_day = days.add(decide_day, np.where(cert_late, rng.integers(11, 15, n), rng.choice([0, 1, 1, 2, 3, 5], n)))
    t_cert = np.where(granted, _after(days, rng, cert_day, t_decide), NONE)
    close_day = np.where(granted, cert_day, days.add(decide_day, rng.integers(0, 3, n)))
    t_close = np.where(decided, _after(days, rng, close_day, np.where(granted, t_cert, t_decide)), NONE)

    tl = Timeline(
        n=n, now=now, m=m, rd=rd, corr=corr, corr_late=corr_late, refused=refused, deemed=deemed, accepted=accepted,
        suspend=suspend, extend=extend, withdraw=withdraw, granted=granted, ext_days=ext_days, announced=announced,
        ext_in_promise=ext_in_promise,
        suspend_reason=rng.integers(0, len(seed.SUSPENSIONS), n), suspend_basis=rng.random(n) > 0.1,
        fee=np.where(rng.random(n) < 0.03, u.fee[m] * 1.5, u.fee[m]),
        t_recv=t_recv, t_corr=t_corr, t_corrected=t_corrected, t_refuse=t_refuse, t_accept=t_accept,
        t_start=np.where(deemed, t_recv, t_accept), t_susp=t_susp, t_resume=t_resume, t_extend=t_extend,
        t_withdraw=t_withdraw, t_decide=t_decide, t_cert=t_cert, t_close=t_close,
    )
    # Where `now` cuts each case: its status, and whether the decision clocks have started.
    tl.status = np.full(n, S["submitted"])
    for t, to in ((t_corr, "correction_requested"), (t_corrected, "corrected"), (t_refuse, "refused"),
                  (t_accept, "accepted"), (t_susp, "suspended"), (t_resume, "accepted"), (t_withdraw, "withdrawn"),
                  (t_decide, "decided"), (t_cert, "certified"), (t_close, "closed")):
        tl.status = np.where(tl.past(t), S[to], tl.status)
    deemed_at = np.where(corr_late, t_corr, t_accept)  # the late notice, or the late acceptance
    tl.is_deemed = deemed & tl.past(deemed_at)
    tl.clocks_on = accepted & tl.past(np.where(deemed, deemed_at, t_accept))
    tl.accepted_at = np.where(tl.clocks_on, np.where(tl.is_deemed, t_recv, t_accept), NONE)
    tl.reasons = np.where(
        tl.past(t_refuse), np.array(seed.REFUSAL_REASONS, dtype=object)[rng.integers(0, len(seed.REFUSAL_REASONS), n)],
        np.where(tl.past(t_decide) & ~granted,
                 np.array(seed.DENIAL_REASONS, dtype=object)[rng.integers(0, len(seed.DENIAL_REASONS), n)], ""),
    )
    return tl


CLOCK_COLUMNS = ("id", "kind", "label", "subject_id", "organ_id", "region_code", "start_at", "limit", "unit", "legal_basis",
                 "start_reason", "state", "stopped_at", "warn_at", "due_at", "extension_days", "provisional", "next_check_at")


def clocks(tl: Timeline, u: Universe, days: Days, case_ids: np.ndarray, case_no: list[str], clock_id0: int,
           rng: np.random.Generator) -> tuple[dict, dict, dict, dict, int]:
    """The clocks the workflow would have started, stopped, paused and extended by `now`.

    Returns (clock columns, pause columns, extension columns, {kind: clock id per case or
    NONE}, ids used). Ids run correction, promise, legal, certificate from `clock_id0`.
    """
    n, m, past = tl.n, tl.m, tl.past
    never = np.iinfo(np.int64).max
    first_stop = np.min(np.where(np.stack([past(tl.t_corr), past(tl.t_accept), past(tl.t_refuse)]),
                                 np.stack([tl.t_corr, tl.t_accept, tl.t_refuse]), never), axis=0)
    decision_stop = np.where(past(tl.t_decide), tl.t_decide, np.where(past(tl.t_withdraw), tl.t_withdraw, NONE))
    extension = np.where(past(tl.t_extend), tl.ext_days, 0)
    no_days = np.zeros(n, np.int64)
    cert_on = past(tl.t_decide) & tl.granted
    # kind: (has it, start, limit, counts calendar days, stop, extension days, may be paused)
    groups = {
        "correction": (np.ones(n, bool), tl.t_recv, u.correction_limit[m], np.zeros(n, bool),
                       np.where(first_stop == never, NONE, first_stop), no_days, False),
        "promise": (tl.clocks_on, tl.t_start, u.promised[m], u.promised_calendar[m], decision_stop,
                    np.where(tl.ext_in_promise, extension, 0), True),
        "legal": (tl.clocks_on, tl.t_start, u.legal[m], u.legal_calendar[m], decision_stop, extension, True),
        "certificate": (cert_on, tl.t_decide, u.certificate_limit[m], np.zeros(n, bool),
                        np.where(past(tl.t_cert), tl.t_cert, NONE), no_days, False),
    }
    label = {"correction": _("补正告知"), "promise": _("承诺时限"), "legal": _("法定时限"), "certificate": _("送达证件")}
    basis = {"correction": _("《行政许可法》第三十二条"), "promise": "", "legal": _("《行政许可法》第四十二条"),
             "certificate": _("《行政许可法》第四十四条")}
    # A deemed acceptance (Art. 32) starts the decision clocks at receipt, and they say why.
    deemed_reason = np.where(tl.is_deemed, np.where(tl.corr_late, Clock.StartReason.DEEMED_LATE_CORRECTION.value,
                                                    Clock.StartReason.DEEMED_LATE_ACCEPTANCE.value), "").astype(object)
    reasons = {"correction": None, "promise": deemed_reason, "legal": deemed_reason, "certificate": None}
    paused_now = tl.suspend & past(tl.t_susp) & ~past(tl.t_resume)
    cols: dict[str, list] = {c: [] for c in CLOCK_COLUMNS}
    pauses: dict[str, list] = {c: [] for c in ("clock_id", "started_at", "ended_at", "reason", "legal_basis", "announced_days")}
    extensions: dict[str, list] = {c: [] for c in ("clock_id", "days", "reason", "approver_name", "at")}
    ids, next_id = {}, clock_id0
    for kind, (on, start_t, limit, calendar, stop_t, ext, pausable) in groups.items():
        sel = np.flatnonzero(on)
        ids[kind] = np.full(n, NONE)
        ids[kind][sel] = next_id + np.arange(sel.size)
        next_id += sel.size
        if not sel.size:
            continue
        s_day, start_at = days.day_of(start_t[sel]), start_t[sel]
        has_pause = (tl.suspend & past(tl.t_susp))[sel] if pausable else np.zeros(sel.size, bool)
        resumed = past(tl.t_resume)[sel]
        first = days.day_of(np.where(has_pause, tl.t_susp[sel], start_at)) + 1
        last = np.where(has_pause & resumed, days.day_of(np.where(resumed, tl.t_resume[sel], start_at)), NONE)
        due, warn, provisional = _derive(days, s_day, limit[sel], ext[sel], calendar[sel], has_pause, first, last)
        due_at = np.where(due == NONE, NONE, days.end_of(np.where(due == NONE, s_day, due)))
        warn_at = np.where(warn == NONE, NONE,
                           np.where(warn <= s_day, start_at, days.end_of(np.where(warn == NONE, s_day, warn))))
        stopped = stop_t[sel] != NONE
        state = np.where(stopped, "stopped", np.where(paused_now[sel] & pausable, "paused", "running"))
        warn_first = (warn_at != NONE) & ((due_at == NONE) | (warn_at < due_at))  # engine.next_check
        values = {
            "id": ids[kind][sel], "kind": np.full(sel.size, f"case.{kind}", dtype=object),
            "label": np.array([f"{case_no[i]} {label[kind]}" for i in sel.tolist()], dtype=object),
            "subject_id": case_ids[sel], "organ_id": u.organ[m][sel], "region_code": u.region[m][sel],
            "start_at": start_at, "limit": limit[sel], "unit": np.where(calendar[sel], CALENDAR, WORKING).astype(object),
            "legal_basis": np.full(sel.size, basis[kind], dtype=object),
            "start_reason": reasons[kind][sel] if reasons[kind] is not None else np.full(sel.size, "", dtype=object),
            "state": state.astype(object),
            "stopped_at": np.where(stopped, np.maximum(stop_t[sel], start_at), NONE), "warn_at": warn_at,
            "due_at": due_at, "extension_days": ext[sel], "provisional": provisional,
            "next_check_at": np.where(stopped, NONE, np.where(warn_first, warn_at, due_at)),
        }
        for name in CLOCK_COLUMNS:
            cols[name].append(values[name])
        if pausable:
            p = sel[has_pause]
            pauses["clock_id"].append(ids[kind][p])
            pauses["started_at"].append(tl.t_susp[p])
            pauses["ended_at"].append(np.where(past(tl.t_resume)[p], tl.t_resume[p], NONE))
            pauses["reason"].append(np.array([seed.SUSPENSIONS[i][0] for i in tl.suspend_reason[p].tolist()], dtype=object))
            pauses["legal_basis"].append(np.where(tl.suspend_basis[p], seed.SUSPENSION_BASIS, "").astype(object))
            pauses["announced_days"].append(tl.announced[p])
            e = sel[(past(tl.t_extend) & (tl.ext_in_promise if kind == "promise" else True))[sel]]
            extensions["clock_id"].append(ids[kind][e])
            extensions["days"].append(tl.ext_days[e])
            extensions["reason"].append(np.array(seed.EXTENSION_REASONS, dtype=object)[e % len(seed.EXTENSION_REASONS)])
            extensions["approver_name"].append(
                np.array([f"{seed.SURNAMES[i % len(seed.SURNAMES)]}局长" for i in e.tolist()], dtype=object))
            extensions["at"].append(tl.t_extend[e])
    return _join(cols), _join(pauses), _join(extensions), ids, next_id - clock_id0


def changes(tl: Timeline, case_ids: np.ndarray, rng: np.random.Generator) -> dict:
    """One status-change row per past transition, as `workflow.set_status` writes them."""
    n = tl.n
    came_from = np.where(tl.corr, S["corrected"], S["submitted"])
    items = np.array(seed.CORRECTION_ITEMS, dtype=object)[rng.integers(0, len(seed.CORRECTION_ITEMS), n)]
    suspended = np.array([seed.SUSPENSIONS[i][0] for i in tl.suspend_reason.tolist()], dtype=object)
    withdrawn = np.array(seed.WITHDRAW_REASONS, dtype=object)[rng.integers(0, len(seed.WITHDRAW_REASONS), n)]
    cols: dict[str, list] = {c: [] for c in ("case_id", "from_status", "to_status", "at", "note")}
    for t, before, to, note in (
        (tl.t_corr, S["submitted"], "correction_requested", items),
        (tl.t_corrected, S["correction_requested"], "corrected", None),
        (tl.t_refuse, came_from, "refused", tl.reasons), (tl.t_accept, came_from, "accepted", None),
        (tl.t_susp, S["accepted"], "suspended", suspended), (tl.t_resume, S["suspended"], "accepted", None),
        (tl.t_withdraw, S["accepted"], "withdrawn", withdrawn), (tl.t_decide, S["accepted"], "decided", tl.reasons),
        (tl.t_cert, S["decided"], "certified", None),
        (tl.t_close, np.where(tl.granted, S["certified"], S["decided"]), "closed", None),
    ):
        sel = np.flatnonzero(tl.past(t))
        cols["case_id"].append(case_ids[sel])
        cols["from_status"].append(STATUS_NAMES[np.broadcast_to(before, (n,))[sel]])
        cols["to_status"].append(np.full(sel.size, to, dtype=object))
        cols["at"].append(t[sel])
        cols["note"].append(note[sel] if note is not None else np.full(sel.size, "", dtype=object))
    return _join(cols)


def _join(cols: dict[str, list]) -> dict[str, np.ndarray]:
    return {k: (np.concatenate(v) if v else np.array([])) for k, v in cols.items()}


def draw(rng: np.random.Generator, u: Universe, days: Days, n: int, seq0: int, now: int,
         received_days: np.ndarray, case_id0: int, clock_id0: int) -> Chunk:
    """`n` cases with their clocks, pauses, extensions and status changes, ids from the given ones."""
    tl = timeline(rng, u, days, n, now, received_days)
    m, past = tl.m, tl.past
    case_ids = case_id0 + np.arange(n, dtype=np.int64)
    epoch_day = date(1970, 1, 1).toordinal() - FIRST_ORDINAL
    received = np.datetime_as_string((tl.rd - epoch_day).astype("datetime64[D]"), unit="D")
    case_no = [f"{BULK_MARK}{r6}{d[:4]}{d[5:7]}{d[8:10]}{s:09d}" for r6, d, s in
               zip(u.region6[m].tolist(), received.tolist(), range(seq0, seq0 + n), strict=True)]
    clock_cols, pause_cols, ext_cols, clock_ids, used = clocks(tl, u, days, case_ids, case_no, clock_id0, rng)
    lower = u.lower_start[m] + (rng.random(n) * np.maximum(u.lower_count[m], 1)).astype(np.int64)
    case_cols = {
        "id": case_ids, "case_no": np.array(case_no, dtype=object), "matter_version_id": u.version[m],
        "organ_id": u.organ[m], "region_code": u.region[m], "parent_id": np.full(n, NONE), "is_parallel": np.zeros(n, bool),
        "first_review_organ_id": np.where(u.lower_count[m] > 0, u.lower[np.minimum(lower, u.lower.size - 1)], NONE),
        "applicant_name": u.names[u.names_start[m] + (rng.random(n) * u.names_count[m]).astype(np.int64)],
        "applicant_phone": rng.integers(13_000_000_000, 19_999_999_999, n).astype(str).astype(object),
        "verify_hash": np.full(n, "", dtype=object), "status": STATUS_NAMES[tl.status],
        "outcome": np.where(past(tl.t_decide), np.where(tl.granted, "granted", "denied"), "").astype(object),
        "received_at": tl.t_recv, "accepted_at": tl.accepted_at, "deemed_accepted": tl.is_deemed,
        "decided_at": np.where(past(tl.t_decide), tl.t_decide, NONE),
        "certified_at": np.where(past(tl.t_cert), tl.t_cert, NONE),
        "closed_at": np.select([past(tl.t_close), past(tl.t_refuse), past(tl.t_withdraw)],
                               [tl.t_close, tl.t_refuse, tl.t_withdraw], NONE),
        "reasons": tl.reasons, "fee_charged": np.where(past(tl.t_cert), tl.fee, 0.0), "extended": past(tl.t_extend),
        "correction_clock_id": clock_ids["correction"], "promise_clock_id": clock_ids["promise"],
        "legal_clock_id": clock_ids["legal"], "certificate_clock_id": clock_ids["certificate"],
        "source_id": np.full(n, NONE),
    }
    still_open = ~np.isin(tl.status, [S["closed"], S["refused"], S["withdrawn"]])
    return Chunk(case_cols, clock_cols, pause_cols, ext_cols, changes(tl, case_ids, rng),
                 {"clocks": used, "open": int(still_open.sum())})


def _derive(days: Days, s, limit, ext, calendar, has_pause, first, last):
    """Due, warning (day indices, NONE while an open pause holds the clock) and provisional flags.

    The engine's arithmetic (WorkCalendar.compute) vectorised for at most one pause per
    clock: the pause began on day first - 1 and stands still on days [first, last]; `last`
    NONE means still paused. A pause begun on or before the last day holds the clock.
    """
    cal = days.cal
    total = limit + ext
    remaining = warn_remaining(limit)
    warn_n = np.maximum(total - remaining, 0)
    a = np.maximum(first, s + 1)
    pause = has_pause & ((last == NONE) | (last >= a))
    a_safe = np.where(pause, a, s + 1)
    b = np.where(pause & (last != NONE), last, s + 1)
    began = np.minimum(first - 1, a_safe)

    def walk(count):
        before = np.where(calendar, a_safe - 1 - s, cal.cum[a_safe - 1].astype(np.int64) - cal.cum[s])
        plain = np.where(calendar, s + np.maximum(count, 0), cal.due_indices(s, np.maximum(count, 0), WORKING))
        last_day = np.where(calendar, cal.next_working[np.minimum(plain, N_DAYS - 1)], plain)
        inside = ~pause | ((count <= before) & (began > last_day))
        rest = np.maximum(count - before, 0)
        after = np.where(calendar, b + rest,
                         np.where(rest == 0, cal.next_working[b], cal.due_indices(b, rest, WORKING)))
        held = pause & (last == NONE) & ~inside
        return np.where(inside, plain, np.where(held, NONE, after))

    due = walk(total)
    rolled = np.where(due == NONE, 0, due)
    due = np.where(calendar & (due != NONE), cal.next_working[rolled], due)
    warn = walk(warn_n)
    last_used = np.where(due != NONE, due, np.where(pause, a_safe - 1, s))
    last_used = np.maximum(last_used, s)
    lo = np.where(s > 0, cal.cum_unofficial[np.maximum(s - 1, 0)], 0)
    provisional = (cal.cum_unofficial[last_used] - lo) > 0
    return due, warn, provisional


# --- writing -----------------------------------------------------------------------------------


def _texts(values: np.ndarray, kind: str, postgres: bool) -> list:
    """One column as COPY text (PostgreSQL) or as Python values for executemany."""
    if kind == "ts":
        mask = values == NONE
        text = np.datetime_as_string(np.where(mask, 0, values).astype("datetime64[s]"), unit="s")
        out = [t + "+00" for t in text.tolist()] if postgres else [t.replace("T", " ") for t in text.tolist()]
        return _nulls(out, mask, postgres)
    if kind == "int":
        mask = values == NONE
        out = values.tolist()
        return _nulls([str(v) for v in out] if postgres else out, mask, postgres)
    if kind == "bool":
        return ["t" if v else "f" for v in values.tolist()] if postgres else [int(v) for v in values.tolist()]
    if kind == "money":
        return [f"{v:.2f}" for v in values.tolist()]
    out = values.tolist()
    if postgres:
        return [_escape(v) for v in out]
    return out


def _escape(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _nulls(values: list, mask: np.ndarray, postgres: bool) -> list:
    if mask.any():
        null = "\\N" if postgres else None
        for i in np.flatnonzero(mask).tolist():
            values[i] = null
    return values


CASE_KINDS = {
    "id": "int", "matter_version_id": "int", "organ_id": "int", "parent_id": "int", "first_review_organ_id": "int",
    "correction_clock_id": "int", "promise_clock_id": "int", "legal_clock_id": "int", "certificate_clock_id": "int",
    "source_id": "int", "received_at": "ts", "accepted_at": "ts", "decided_at": "ts", "certified_at": "ts",
    "closed_at": "ts", "is_parallel": "bool", "deemed_accepted": "bool", "extended": "bool", "fee_charged": "money",
}
CLOCK_KINDS = {
    "id": "int", "subject_id": "int", "organ_id": "int", "limit": "int", "extension_days": "int", "start_at": "ts",
    "stopped_at": "ts", "warn_at": "ts", "due_at": "ts", "next_check_at": "ts", "provisional": "bool",
}
OTHER_KINDS = {"clock_id": "int", "case_id": "int", "days": "int", "announced_days": "int", "started_at": "ts",
               "ended_at": "ts", "at": "ts"}


class Writer:
    """COPY on PostgreSQL, executemany elsewhere; one instance per load (inside its transaction)."""

    def __init__(self):
        self.postgres = connection.vendor == "postgresql"
        self.now = timezone.now()
        self.subject_type = ContentType.objects.get_for_model(Case).pk
        self.actor_label = audit_context().label[:150]

    def reserve(self, model, count: int) -> int:
        """The first of `count` consecutive ids nobody else will get."""
        table = model._meta.db_table
        with connection.cursor() as cur:
            if self.postgres:
                cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                sequence = cur.fetchone()[0]
                cur.execute("SELECT nextval(%s)", [sequence])
                first = cur.fetchone()[0]
                if count > 1:
                    cur.execute("SELECT setval(%s, %s)", [sequence, first + count - 1])
                return first
            cur.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
            top = cur.fetchone()[0]
            cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = cur.fetchone()
            return max(top, row[0] if row else 0) + 1

    def write(self, model, columns: dict[str, np.ndarray], kinds: dict[str, str], extra: dict[str, object]) -> int:
        names = list(columns)
        n = len(next(iter(columns.values()))) if columns else 0
        if not n:
            return 0
        data = [_texts(np.asarray(columns[c]), kinds.get(c, "text"), self.postgres) for c in names]
        for name, value in extra.items():
            names.append(name)
            data.append([value] * n)
        table = model._meta.db_table
        quoted = ", ".join(f'"{c}"' for c in names)
        with connection.cursor() as cur:
            if self.postgres:
                body = "\n".join("\t".join(row) for row in zip(*data, strict=True)) + "\n"
                raw = cur.cursor if hasattr(cur, "cursor") else cur
                with raw.copy(f'COPY "{table}" ({quoted}) FROM STDIN') as copy:
                    payload = body.encode("utf-8")
                    for start in range(0, len(payload), 1 << 23):
                        copy.write(payload[start : start + (1 << 23)])
            else:
                marks = ", ".join(["%s"] * len(names))
                cur.executemany(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', list(zip(*data, strict=True)))
        return n

    def stamp(self) -> str | object:
        return self.now.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S+00" if self.postgres else "%Y-%m-%d %H:%M:%S")

    def flag(self, value: bool):
        return ("t" if value else "f") if self.postgres else int(value)

    def store(self, chunk: Chunk) -> None:
        """Clocks first (cases point at them), then cases, then what points at either."""
        stamp = self.stamp()
        self.write(Clock, chunk.clocks, CLOCK_KINDS, {
            "subject_type_id": str(self.subject_type) if self.postgres else self.subject_type,
            "created_at": stamp, "warned_at": "\\N" if self.postgres else None,
            "overdue_at": "\\N" if self.postgres else None, "claim": "\\N" if self.postgres else None,
        })
        self.write(Case, chunk.case, CASE_KINDS, {"created_at": stamp})
        self.write(StatusChange, chunk.changes, OTHER_KINDS, {
            "actor_id": "\\N" if self.postgres else None, "actor_label": self.actor_label,
        })
        self.write(ClockPause, chunk.pauses, OTHER_KINDS, {})
        self.write(ClockExtension, chunk.extensions, OTHER_KINDS, {"approver_id": "\\N" if self.postgres else None})


# --- PostgreSQL: locks, triggers, index rebuild -------------------------------------------------


class FastLoad:
    """Inside the load's transaction: lock the tables; for a big load drop the secondary
    indexes and unique constraints (rebuilt in `finish`); skip FK triggers as superuser."""

    def __init__(self, adding: int):
        self.saved: list[tuple[str, str]] = []
        self.replica = False
        if connection.vendor != "postgresql":
            return
        tables = [m._meta.db_table for m in TABLES]
        with connection.cursor() as cur:
            # Django's foreign keys are deferred to commit; check what is pending now (a table
            # with pending trigger events cannot be altered) and each COPY as it ends.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cur.execute(f"LOCK TABLE {', '.join(tables)} IN SHARE ROW EXCLUSIVE MODE")
            cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            if cur.fetchone()[0]:
                cur.execute("SET LOCAL session_replication_role = replica")
                self.replica = True
            cur.execute("SELECT count(*) FROM (SELECT 1 FROM approvals_case LIMIT %s) t", [adding + 1])
            present = cur.fetchone()[0]
            if adding < REBUILD_FROM or present > adding:
                return
            cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
            for table in tables:
                cur.execute(
                    "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                    "WHERE conrelid = %s::regclass AND contype = 'u'", [table])
                for name, definition in cur.fetchall():
                    self.saved.append((f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}',
                                       f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"'))
                cur.execute(
                    "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                    "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS "
                    "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [table])
                for name, definition in cur.fetchall():
                    self.saved.append((definition, f"DROP INDEX {name}"))
            for _create, drop in self.saved:
                cur.execute(drop)

    def finish(self, progress) -> float:
        """Rebuild what was dropped, restore the triggers; returns the seconds the rebuild took."""
        if connection.vendor != "postgresql":
            return 0.0
        started = clock.monotonic()
        with connection.cursor() as cur:
            for i, (create, _drop) in enumerate(self.saved, start=1):
                cur.execute(create)
                progress(i, len(self.saved), "indexes")
            if self.replica:
                cur.execute("SET LOCAL session_replication_role = DEFAULT")
            cur.execute("SET CONSTRAINTS ALL DEFERRED")
            for model in TABLES:
                cur.execute(f'ANALYZE "{model._meta.db_table}"')
        return clock.monotonic() - started if self.saved else 0.0


# --- the load ----------------------------------------------------------------------------------


@transaction.atomic
def load(target: int, progress=seed.null_progress, now: datetime | None = None) -> str:
    """Top the bulk cases up to `target` (idempotent: a re-run adds only what is missing)."""
    started = clock.monotonic()
    present = Case.objects.filter(case_no__under=BULK_MARK).count()
    todo = target - present
    if todo <= 0:
        return f"{present} bulk cases (kept)"
    now_dt = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    today = timezone.localtime(now_dt, zone).date()
    cal = calendar_engine.current()
    days = Days(cal, zone, today - timedelta(days=400), today + timedelta(days=400))
    first = day_index(today - timedelta(days=365))
    span = np.arange(first, day_index(today) + 1)
    received_days = span[cal.working[span]]
    rng = np.random.default_rng([seed.RNG_SEED, present])
    u = universe(rng)
    fast = FastLoad(todo)
    writer = Writer()
    now_s = int(now_dt.timestamp())
    made = clocks_made = still_open = 0
    while made < todo:
        n = min(CHUNK, todo - made)
        case0 = writer.reserve(Case, n)
        clock0 = writer.reserve(Clock, 4 * n)
        chunk = draw(rng, u, days, n, present + made, now_s, received_days, case0, clock0)
        writer.store(chunk)
        made += n
        clocks_made += chunk.counts["clocks"]
        still_open += chunk.counts["open"]
        progress(made, todo, "bulk cases")
    rebuilt = fast.finish(progress)
    seconds = clock.monotonic() - started
    rate = made / seconds if seconds else 0
    return (f"{made} bulk cases ({still_open} open), {clocks_made} clocks via "
            f"{'COPY' if writer.postgres else 'INSERT'} in {seconds:.0f}s ({rate:,.0f} cases/s"
            + (f", indexes rebuilt in {rebuilt:.0f}s" if rebuilt else "") + ")")

