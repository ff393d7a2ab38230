"""Demo data for the complaint centre and 好差评: a realistic year, ending now.

Seed step ``complaints`` (order 80: after ``cases`` (60) and ``exchange`` (70), before
``rollups`` (90); registry: xiaoneng.orgs.seed):

1. Upserts the complaint categories from ``data/categories.json`` (`categories.load`).
2. ``COMPLAINTS`` complaints received over the year before now, about the organs that
   have matters (at demo scale those of the province, 广州 and its districts, 深圳), 天河
   and the city bureaus most. Every channel (web most, hotline many, then letters,
   visits, SMS, referrals, media 暗访, 效能访谈, a few Open311), about 20% anonymous; the
   others with a fake but valid identity (name, mobile, GB 11643 ID number with its
   check digit, address) encrypted through `identity.stored`. Each complaint lives
   through the transitions of `workflow.TRANSITIONS` as far as its age allows: old ones
   closed (rated, or by the daily sweep after the appeal window), recent ones
   registered/accepted/routed; some not accepted with reasons, sent back and rerouted,
   extended (ExtensionRequest, approved or refused, some pending), returned to be
   handled again, merged duplicates, appealed and reviewed, identity grants; and some
   late, so that the monitoring pass and the supervision pages have overdue clocks to
   find. A fixed set of "showcase" complaints at the end guarantees every status.
3. ``RATINGS`` 好差评: a share of the finished demo cases, the rest online ratings of the
   organs' matters and window-visit ratings; mostly 非常满意/满意, a few bad ones — the
   named bad ones on a ``rating.rectification`` clock (callback → rectifying →
   rectified, a few appealed or annulled).

How it stays fast (~3,000 complaints and ~20,000 ratings in a few seconds of CPU): rows are
built in memory as dicts and written with one multi-row INSERT per table
(`seed_rows.insert_rows`; `bulk_create` spent more time in model instances and field
adaptation than the database needed); ids of complaints, ratings and clocks are reserved
up front so rows link without updates; clock deadlines are computed in bulk on the
calendar's cumulative working-day index (the arithmetic of
`xiaoneng.clocks.engine.recompute`), and only the few clocks with pauses go through
`engine.recompute` itself. No notifications and no per-row audit entries are written
(the seed command records one entry for the step); the timeline steps carry the same
kinds, from/to statuses and public flags as the actions write. Ratings: `seed_ratings`;
wording: `seed_texts`.

Idempotent: seeded complaints have deterministic tokens (uuid5 of the index), so a
re-run adds only the missing ones; ratings are topped up to ``RATINGS`` in all. The
volume is the same at every scale (``large`` and ``province`` spread it over more organs);
``XIAONENG_SEED_COMPLAINTS=N`` / ``XIAONENG_SEED_RATINGS=N`` override the counts.
Deterministic: one seeded random generator (the moments move with "now").
"""
from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.clocks import engine
from xiaoneng.conf import rule
from xiaoneng.orgs.models import Grant, Organ, Region, Role
from xiaoneng.orgs.seed import GIVEN, SURNAMES, null_progress, register_seed_step

from . import categories
from . import identity as ident
from . import seed_texts as T
from .actions import secret_digest
from .masking import TEXT_FIELDS, masked_copies
from .models import (
    Category,
    Complaint,
    ComplaintStep,
    ExtensionRequest,
    IdentityGrant,
    Rating,
    Status,
)
from .seed_rows import ClockPlan, insert_rows, reserve_ids, write_clocks
from .workflow import PUBLIC_KINDS, TRANSITIONS

COMPLAINTS = 3000
RATINGS = 20000
RNG_SEED = 20261102
TOKEN_NAMESPACE = uuid.UUID("6f1d3c52-8a7e-4c1b-9d0e-5a2b7c4e9f10")
K = ComplaintStep.Kind
S = Status
CHANNELS = {"web": 36, "hotline": 26, "letter": 9, "visit": 8, "sms": 7, "referral": 5, "media": 3, "interview": 3,
            "open311": 3}
CATEGORY_WEIGHTS = {"delay": 26, "attitude": 16, "first_contact": 13, "inaction": 11, "window_discipline": 8,
                    "business_env": 8, "policy": 6, "extortion": 4, "other": 8}
# Complaints per organ: the place (天河 and the city bureaus busiest) times the bureau's exposure.
PLACE_WEIGHTS = {"440106": 4.0, "4401": 2.5, "4403": 2.5, "44": 1.0}
BUREAU_WEIGHTS = {"市场监管": 3.0, "人社": 2.5, "自然资源": 2.2, "住建": 2.2, "公安": 2.0, "交通": 1.4, "卫健": 1.3,
                  "教育": 1.3, "城管": 1.5, "政数": 1.5, "民政": 1.1}
OFFICE_SHORT = "效能办"


# --- the world the complaints happen in -------------------------------------------------------


@dataclass
class World:
    organs: list[Organ]
    weights: list[float]
    matters: dict[int, list]  # organ id -> [(matter id, name)]
    cases: dict[int, list[int]]  # organ id -> finished case ids
    offices: dict[str, Organ]  # region prefix -> 效能办
    regions: dict[str, Region]  # prefix -> region
    officers: dict[str, object]  # region prefix -> complaint officer
    supervisors: dict[str, object]
    handlers: dict[int, object]  # organ id -> handler
    categories: dict[str, Category]

    @classmethod
    def load(cls) -> World:
        from xiaoneng.approvals.models import Case, Matter

        matters = defaultdict(list)
        live = Matter.objects.filter(current__isnull=False, is_active=True, organ__is_active=True).order_by("pk")
        for pk, name, organ_id in live.values_list("pk", "name", "organ_id"):
            matters[organ_id].append((pk, name))
        organs = list(Organ.objects.filter(pk__in=list(matters)).select_related("region").order_by("pk"))
        weights = [_place_weight(o.region_code) * BUREAU_WEIGHTS.get(o.short_name, 1.0) for o in organs]
        cases = defaultdict(list)
        finished = Case.objects.filter(parent__isnull=True, organ__in=organs,
                                       status__in=("refused", "decided", "certified", "closed"))
        for pk, organ_id in finished.order_by("pk").values_list("pk", "organ_id"):
            cases[organ_id].append(pk)
        offices = {o.region_code: o for o in Organ.objects.filter(short_name=OFFICE_SHORT, is_active=True)}
        regions = {r.prefix: r for r in Region.objects.filter(level__lte=3)}
        officers, supervisors, handlers = {}, {}, {}
        for g in Grant.objects.select_related("user", "region").order_by("pk"):
            if g.role == Role.COMPLAINT_OFFICER and g.region_id:
                officers.setdefault(g.region.prefix, g.user)
            elif g.role == Role.SUPERVISOR and g.region_id:
                supervisors.setdefault(g.region.prefix, g.user)
            elif g.role == Role.HANDLER and g.organ_id:
                handlers.setdefault(g.organ_id, g.user)
        return cls(organs, weights, dict(matters), dict(cases), offices, regions, officers, supervisors, handlers,
                   {c.code: c for c in Category.objects.filter(is_active=True)})

    def nearest(self, table: dict, prefix: str):
        """The entry for the longest key that is a prefix of `prefix` (the region or one above)."""
        keys = [k for k in table if prefix.startswith(k)]
        return table[max(keys, key=len)] if keys else None


def _place_weight(region_code: str) -> float:
    keys = [k for k in PLACE_WEIGHTS if region_code.startswith(k)]
    return PLACE_WEIGHTS[max(keys, key=len)] if keys else 1.0


# --- people ------------------------------------------------------------------------------------

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_AREAS = ("440106", "440104", "440103", "440105", "440111", "440112", "440113", "440304", "440305", "440306",
            "441900", "442000", "440604", "445102", "440882", "431002", "450103", "360702")


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _i in range(1 if rng.random() < 0.3 else 2))


def mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "136", "137", "150", "158", "186", "188", "133", "177", "199")) + \
        f"{rng.randrange(10**8):08d}"


def id_number(rng: random.Random) -> str:
    """A resident ID number (GB 11643-1999) with a correct check character."""
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55))
    body = f"{rng.choice(ID_AREAS)}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + ID_CHECK[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS, strict=True)) % 11]


def identity(rng: random.Random, place: str, *, letter: bool, email: bool) -> ident.Identity:
    return ident.Identity.of(
        name=person_name(rng), phone=mobile(rng),
        id_number=id_number(rng) if letter or rng.random() < 0.45 else "",
        address=f"{place}{rng.choice(T.STREETS)}{rng.randint(1, 999)}号" if letter or rng.random() < 0.3 else "",
        email=f"{rng.randrange(10**8, 10**10)}@{rng.choice(('qq.com', '163.com', '139.com'))}" if email else "",
    )


# --- time ----------------------------------------------------------------------------------------


class When:
    """Moments on the working-day calendar: office hours, n working days later, the daily sweep."""

    def __init__(self, rng: random.Random):
        self.cal, self.rng, self.zone = calendar_engine.current(), rng, engine.tz()

    def day(self, at: datetime) -> date:
        return timezone.localtime(at, self.zone).date()

    def working(self, d: date) -> date:
        while not self.cal.is_working(d):
            d += timedelta(days=1)
        return d

    def moment(self, d: date, after: datetime | None = None) -> datetime:
        at = datetime.combine(d, time(8, 30), tzinfo=self.zone) + timedelta(minutes=self.rng.randrange(0, 540))
        if after is not None and at <= after:
            at = after + timedelta(minutes=self.rng.randrange(5, 90))
        return at

    def wd(self, after: datetime, n: int) -> datetime:
        """Office hours on the n-th working day after `after`'s day (0: that day, or the next working one)."""
        d = self.day(after)
        d = self.cal.add_working_days(d, n) if n > 0 else self.working(d)
        return self.moment(d, after)

    def days(self, after: datetime, n: int) -> datetime:
        """Office hours n calendar days later (rolled to a working day)."""
        return self.moment(self.working(self.day(after) + timedelta(days=n)), after)

    def back(self, now: datetime, n: int) -> date:
        """The working day n working days before now's day."""
        d = self.day(now)
        while n > 0 or not self.cal.is_working(d):
            d -= timedelta(days=1)
            if self.cal.is_working(d):
                n -= 1
        return d

    def sweep(self, replied: datetime) -> datetime:
        """The first daily sweep (02:00) after the appeal window."""
        after = replied + timedelta(days=int(rule("complaint_appeal_days")))
        at = datetime.combine(self.day(after), time(2, 0), tzinfo=self.zone)
        return at if at > after else at + timedelta(days=1)


# --- one complaint's life ----------------------------------------------------------------------


@dataclass
class ComplaintPlan:
    index: int
    token: uuid.UUID
    fields: dict
    organ: Organ
    region: Region
    office: Organ | None
    who: ident.Identity
    status: str = ""
    pk: int | None = None
    steps: list = field(default_factory=list)
    clocks: list = field(default_factory=list)
    handling: ClockPlan | None = None
    extensions: list = field(default_factory=list)
    grants: list = field(default_factory=list)
    merged_into: ComplaintPlan | None = None
    possible_duplicate: ComplaintPlan | None = None
    secret: str = ""
    closed: datetime | None = None  # when it stopped being open (closed, not accepted, merged)

    def open_at(self, at: datetime) -> bool:
        return self.merged_into is None and (self.closed is None or self.closed > at) and bool(self.steps)


class Life:
    """Drives one complaint plan through the transition table up to `now`."""

    def __init__(self, world: World, when: When, rng: random.Random, now: datetime):
        self.w, self.when, self.rng, self.now = world, when, rng, now

    # -- recording
    def _actor(self, plan: ComplaintPlan, who: str):
        if who == "office":
            user = self.w.nearest(self.w.officers, plan.region.prefix)
            return user, (user.username if user else (plan.office.name if plan.office else _("效能投诉中心")))
        if who == "organ":
            organ = plan.fields.get("organ") or plan.organ
            user = self.w.handlers.get(organ.pk)
            return user, (user.username if user else organ.name)
        if who == "supervisor":
            user = self.w.nearest(self.w.supervisors, plan.region.prefix)
            return user, (user.username if user else _("效能办"))
        if who == "system":
            return None, "complaints sweep"
        return None, _("投诉人")

    def step(self, plan, kind, at, *, to="", who="office", text="", organ=None, data=None):
        if to:
            if plan.status and to not in TRANSITIONS[plan.status]:  # the seed must obey the table
                raise RuntimeError(f"seed bug: {plan.status} -> {to} ({kind})")
            if to in (S.CLOSED, S.NOT_ACCEPTED, S.MERGED):
                plan.closed = at
        actor, label = self._actor(plan, who)
        plan.steps.append(dict(kind=kind, from_status=plan.status if to else "", to_status=to, at=at, actor=actor,
                               actor_label=label[:150], organ=organ, text=text, data=data or {},
                               public=kind in PUBLIC_KINDS))
        if to:
            plan.status = to

    def route(self, plan, at, organ, kind=K.ROUTE, note=""):
        f = plan.fields
        if plan.handling:
            plan.handling.stop(at)
        hotline = f["channel"] == "hotline"
        limit = int(rule("hotline_order_working_days")) if hotline else int(rule("complaint_handling_days"))
        unit = "working" if hotline else str(rule("complaint_handling_unit"))
        f["organ"], f["routed_at"], f["region_code"] = organ, at, organ.region_code
        f["route_count"] = f.get("route_count", 0) + 1
        last = self.when.cal.add_working_days(self.when.day(at), int(rule("complaint_sendback_working_days")))
        f["sendback_until"] = datetime.combine(last + timedelta(days=1), time(0), tzinfo=self.when.zone)
        plan.handling = ClockPlan("complaint.handling", at, limit, unit, organ, organ.region_code,
                                  f"{f['number']} {_('投诉办理')}", _("效能投诉办理规定"), plan)
        plan.clocks.append(plan.handling)
        self.step(plan, kind, at, to=S.ROUTED, text=note or self.rng.choice(T.ROUTE_NOTES), organ=organ,
                  data={"organ": organ.name, "route": f["route_count"], "limit": limit, "unit": unit})

    def go(self, at: datetime) -> bool:
        return at <= self.now

    # -- the path
    def live(self, plan: ComplaintPlan, force: dict) -> None:
        """Register, then accept (or not), route, handle, reply, rate/appeal/review, close — up to now."""
        rng, when, f = self.rng, self.when, plan.fields

        def pick(name, default):
            return force[name] if name in force else default()

        received = f["received_at"]
        plan.clocks.append(ClockPlan(
            "complaint.acceptance", received, int(rule("complaint_acceptance_working_days")), "working", plan.office,
            plan.region.prefix, f"{f['number']} {_('投诉受理')}", _("效能投诉受理规定"), plan))
        self.step(plan, K.REGISTER, received, to=S.REGISTERED, text=f["title"],
                  who="complainant" if f["channel"] in ("web", "open311", "sms") else "office",
                  data={"channel": f["channel"], "possible_duplicate": None})
        original = plan.possible_duplicate
        if original is not None and pick("merge", lambda: True):
            t = when.wd(received, rng.choice((0, 1)))
            if not self.go(t):
                return
            if original.open_at(t):
                plan.merged_into, f["closed_at"] = original, t
                plan.clocks[0].stop(t)
                self.step(plan, K.MERGE, t, to=S.MERGED, text=_("同一投诉人就同一事项重复投诉，合并办理"),
                          data={"into": original.fields["number"]})
                self.step(original, K.MERGE, t, text=_("同一投诉人就同一事项重复投诉，合并办理"),
                          data={"merged": f["number"]})
                return
        # 1. Acceptance (a few late against the 5 working days).
        delay = pick("accept_delay", lambda: rng.choices((0, 1, 2, 3, 4, 7), (30, 35, 18, 8, 5, 4))[0])
        t = when.wd(received, delay)
        if not self.go(t):
            return
        plan.clocks[0].stop(t)
        if pick("not_accept", lambda: rng.random() < 0.08):
            reasons = rng.choice(T.NOT_ACCEPT_REASONS)
            f["reasons"], f["closed_at"] = reasons, t
            self.step(plan, K.NOT_ACCEPT, t, to=S.NOT_ACCEPTED, text=reasons)
            return
        f["accepted_at"] = t
        self.step(plan, K.ACCEPT, t, to=S.ACCEPTED)
        # 2. The office answers a simple complaint itself, or routes it to the organ.
        if f["channel"] != "hotline" and pick("self_handle", lambda: rng.random() < 0.08):
            t = when.wd(t, rng.randint(1, 4))
            if not self.go(t):
                return
            self.handle(plan, t, rng.choice(("partly", "unfounded")), who="office")
        else:
            t = when.wd(t, pick("route_delay", lambda: rng.choice((0, 0, 1, 1, 2))))
            if not self.go(t):
                return
            self.route(plan, t, plan.organ)
            t = self.organ_part(plan, t, pick)
            if t is None:
                return
        # 3. Reply, then the complainant's rating, an appeal and the review, or the sweep.
        self.reply_and_after(plan, t, pick, first=True)

    def organ_part(self, plan, t, pick, first=True):
        """Send-back and reroute, identity grant, extension, handling report, return; the handled moment or None."""
        rng, when, f = self.rng, self.when, plan.fields
        if first and pick("send_back", lambda: rng.random() < 0.05):
            sb = when.wd(t, rng.choice((0, 1)))
            if not self.go(sb):
                return None
            wrong = f["organ"]
            plan.handling.stop(sb)
            f["organ"] = None
            self.step(plan, K.SEND_BACK, sb, to=S.SENT_BACK, who="organ", text=rng.choice(T.SEND_BACK_REASONS),
                      organ=wrong, data={"organ": wrong.name})
            t = when.wd(sb, pick("reroute_delay", lambda: rng.choice((1, 1, 2, 5))))
            if not self.go(t):
                return None
            others = [o for o in self.w.organs if o.pk != wrong.pk and o.region_code.startswith(plan.region.prefix)]
            if not others:
                self.handle(plan, t, "unfounded", who="office")
                return t
            self.route(plan, t, rng.choice(others), note=_("原承办单位退回，经核实重新转办"))
        if not plan.fields["anonymous"] and rng.random() < 0.03:
            g = when.wd(t, 1)
            if self.go(g):
                supervisor, _label = self._actor(plan, "supervisor")
                reasons = rng.choice(T.GRANT_REASONS)
                plan.grants.append(dict(organ=f["organ"], reasons=reasons, granted_by=supervisor, at=g))
                self.step(plan, K.IDENTITY_GRANT, g, who="supervisor", text=reasons, organ=f["organ"],
                          data={"organ": f["organ"].name})
        clock = plan.handling
        limit = clock.limit
        extension = pick("extension", lambda: rng.choices(("", "approved", "refused"), (93, 6, 1))[0])
        ext_days = 5 if clock.unit == "working" else 15
        after = t
        if extension:
            asked = self._after(clock, t, int(limit * rng.uniform(0.6, 0.85)))
            if not self.go(asked):
                return None
            reasons = rng.choice(T.EXTENSION_REASONS)
            request = dict(days=ext_days, reasons=reasons, requested_at=asked, requested_by="", approved=None,
                           decided_at=None, decided_by=None, note="")
            plan.extensions.append(request)
            self.step(plan, K.EXTENSION_REQUEST, asked, who="organ", text=reasons, organ=f["organ"],
                      data={"days": ext_days})
            request["requested_by"] = plan.steps[-1]["actor_label"]
            decided = when.wd(asked, pick("decide_delay", lambda: rng.choice((0, 1, 1, 2))))
            if not self.go(decided):
                return None
            supervisor, name = self._actor(plan, "supervisor")
            approved = extension == "approved"
            note = "" if approved else rng.choice(T.EXTENSION_REFUSALS)
            request.update(approved=approved, decided_at=decided, decided_by=supervisor, note=note)
            if approved:
                clock.extensions.append((ext_days, reasons, supervisor, name, decided))
                f["extended"] = True
                limit += ext_days
            self.step(plan, K.EXTENSION_DECISION, decided, who="supervisor", text=note,
                      data={"days": ext_days, "approved": approved})
            after = decided
        # Most well within the limit, some near it, some late (the clock shows it).
        share = pick("handle_share", lambda: rng.choices((rng.uniform(0.15, 0.65), rng.uniform(0.65, 0.98),
                                                            rng.uniform(1.05, 1.6)), (70, 20, 10))[0])
        handled = max(self._after(clock, t, max(1, round(limit * share))), when.moment(when.day(after), after))
        if not self.go(handled):
            return None
        self.handle(plan, handled, rng.choices(("founded", "partly", "unfounded"), (30, 30, 40))[0])
        if first and rng.random() < 0.03:  # 退回重办: the office finds the report insufficient
            back = when.wd(handled, 1)
            if not self.go(back):
                return None
            self.route(plan, back, f["organ"], kind=K.RETURN, note=_("办理情况未回应投诉人核心诉求，请重新核查办理"))
            return self.organ_part(plan, back, pick_from({"extension": "", "handle_share": rng.uniform(0.1, 0.4)}),
                                   first=False)
        return handled

    def _after(self, clock: ClockPlan, start: datetime, n: int) -> datetime:
        return self.when.wd(start, n) if clock.unit == "working" else self.when.days(start, n)

    def handle(self, plan, at, result, who="organ"):
        f = plan.fields
        organ = f.get("organ") or plan.organ
        report = self.rng.choice(T.REPORTS[result]).format(organ=organ.name)
        f.update(handling_report=report, result=result, handled_at=at)
        if plan.handling and plan.status == S.ROUTED:
            plan.handling.stop(at)
        self.step(plan, K.HANDLE, at, to=S.HANDLED, who=who, text=report, organ=f.get("organ"),
                  data={"result": result})

    def reply_and_after(self, plan, handled, pick, first):
        rng, when, f = self.rng, self.when, plan.fields
        t = when.wd(handled, pick("reply_delay", lambda: rng.choice((0, 1, 1, 2, 3))))
        if not self.go(t):
            return
        organ = f.get("organ") or plan.office or plan.organ
        reply = T.REPLIES[f["result"]].format(organ=organ.name)
        f.update(reply=reply, replied_at=t)
        self.step(plan, K.REPLY, t, to=S.REPLIED, text=reply)
        replied = t
        level = pick("rate", lambda: rng.choices((5, 4, 3, 2, 1, None), (30, 20, 8, 5, 3, 34))[0]) if first else None
        if level is not None:
            t = replied + timedelta(hours=rng.uniform(2, 24 * 6))
            if not self.go(t):
                return
            comment = rng.choice(T.RATE_COMMENTS[level])
            f.update(satisfaction=level, satisfaction_comment=comment, rated_at=t)
            self.step(plan, K.RATE, t, who="complainant", text=comment, data={"level": level})
            if level >= 3:
                f["closed_at"] = t
                self.step(plan, K.CLOSE, t, to=S.CLOSED, who="complainant")
                return
            if pick("appeal", lambda: rng.random() < 0.55):
                t = t + timedelta(hours=rng.uniform(1, 24 * 5))
                deadline = replied + timedelta(days=int(rule("complaint_appeal_days")))
                if t < deadline:
                    if not self.go(t):
                        return
                    reasons = rng.choice(T.APPEALS)
                    f.update(appeal_reasons=reasons, appealed_at=t)
                    self.step(plan, K.APPEAL, t, to=S.REVIEW, who="complainant", text=reasons)
                    t = when.wd(t, pick("review_delay", lambda: rng.randint(5, 15)))
                    if not self.go(t):
                        return
                    upheld = rng.random() < 0.6
                    reasons = rng.choice(T.REVIEWS_UPHELD if upheld else T.REVIEWS_REOPENED)
                    self.step(plan, K.REVIEW, t, who="supervisor", text=reasons, data={"upheld": upheld})
                    if upheld:
                        f["closed_at"] = t
                        self.step(plan, K.CLOSE, t, to=S.CLOSED, text=reasons)
                        return
                    self.route(plan, t, f.get("organ") or plan.organ, note=reasons)
                    handled = self.organ_part(plan, t, pick_from({"extension": ""}), first=False)
                    if handled is not None:
                        self.reply_and_after(plan, handled, pick_from({}), first=False)
                    return
        t = when.sweep(replied)
        if self.go(t):
            f["closed_at"] = t
            self.step(plan, K.CLOSE, t, to=S.CLOSED, who="system", text=_("答复后逾期未申请复核，自动办结"))


def pick_from(overrides: dict):
    def pick(name, default):
        return overrides[name] if name in overrides else default()
    return pick


# --- drawing the year ----------------------------------------------------------------------------

# Complaints at the end of the set whose path is fixed, so that every status (and the
# supervision pages' overdue, extended and pending cases) is there whatever the count.
# name: (working days ago received, channel or "", the forced choices)
SHOWCASE: dict[str, tuple[int, str, dict]] = {
    "registered": (0, "web", {"accept_delay": 3}),
    "registered_late": (9, "letter", {"accept_delay": 15}),
    "accepted": (1, "web", {"accept_delay": 0, "not_accept": False, "self_handle": False, "route_delay": 4}),
    "routed": (3, "web", {"accept_delay": 0, "not_accept": False, "self_handle": False, "route_delay": 0,
                          "send_back": False, "extension": "", "handle_share": 0.9}),
    "routed_late": (34, "visit", {"accept_delay": 0, "not_accept": False, "self_handle": False, "route_delay": 1,
                                  "send_back": False, "extension": "", "handle_share": 2.0}),
    "hotline_late": (10, "hotline", {"accept_delay": 0, "not_accept": False, "route_delay": 0, "send_back": False,
                                     "extension": "", "handle_share": 3.0}),
    "extension_pending": (18, "web", {"accept_delay": 0, "not_accept": False, "self_handle": False, "route_delay": 0,
                                      "send_back": False, "extension": "refused", "decide_delay": 30}),
    "extended": (28, "referral", {"accept_delay": 0, "not_accept": False, "route_delay": 0, "send_back": False,
                                  "extension": "approved", "decide_delay": 1, "handle_share": 0.97}),
    "sent_back": (3, "hotline", {"accept_delay": 0, "not_accept": False, "route_delay": 0, "send_back": True,
                                 "reroute_delay": 10}),
    "handled": (14, "web", {"accept_delay": 0, "not_accept": False, "self_handle": False, "route_delay": 0,
                            "send_back": False, "extension": "", "handle_share": 0.4, "reply_delay": 30}),
    "replied": (14, "letter", {"accept_delay": 0, "not_accept": False, "self_handle": False, "route_delay": 0,
                               "send_back": False, "extension": "", "handle_share": 0.2, "reply_delay": 1,
                               "rate": None}),
    "review": (40, "visit", {"accept_delay": 0, "not_accept": False, "self_handle": False, "route_delay": 0,
                             "send_back": False, "extension": "", "handle_share": 0.5, "reply_delay": 1, "rate": 1,
                             "appeal": True, "review_delay": 60}),
    "not_accepted": (20, "sms", {"accept_delay": 1, "not_accept": True}),
    "merged": (2, "web", {"merge": True}),  # a duplicate of "routed_late"
    "closed": (60, "hotline", {"accept_delay": 0, "not_accept": False, "route_delay": 0, "send_back": False,
                               "extension": "", "handle_share": 0.5, "reply_delay": 0, "rate": 5}),
}


def received_moment(rng: random.Random, when: When, now: datetime, channel: str) -> datetime:
    """A moment in the year before now: offices register on working days, the web and hotline run longer."""
    today = when.day(now)
    while True:
        d = today - timedelta(days=rng.randrange(365))
        working = when.cal.is_working(d)
        if channel in ("letter", "visit", "media", "interview", "referral") and not working:
            continue
        if not working and rng.random() > 0.35:
            continue
        hours = (0, 24) if channel in ("web", "open311", "sms") else (8, 22) if channel == "hotline" else (8.5, 17.5)
        at = datetime.combine(d, time(0), tzinfo=when.zone) + timedelta(hours=rng.uniform(*hours))
        if at < now - timedelta(minutes=30):
            return at


def _source_ref(rng: random.Random, channel: str, at: datetime, index: int) -> str:
    if channel == "hotline":
        return f"12345-{at:%Y%m%d}-{index % 10000:04d}"
    if channel == "media":
        return rng.choice(T.MEDIA)
    if channel == "interview":
        return f"{at.year}年第{(at.month + 1) // 2}期效能访谈"
    if channel == "referral":
        return f"{rng.choice(('粤效转', '穗效转', '深效转'))}〔{at.year}〕{rng.randint(3, 180)}号"
    if channel == "sms":
        return f"sms:gw-{at:%Y%m%d}-{index:05d}"  # the gateway's message id, as the callback stores it
    return ""


class Planner:
    """Draws each complaint (who, about whom, what) and lives it through `Life`."""

    def __init__(self, world: World, now: datetime, numbers: set[str]):
        self.w, self.now, self.numbers = world, now, numbers
        self.rng = random.Random(RNG_SEED)
        self.when = When(self.rng)
        self.life = Life(world, self.when, self.rng, now)
        self.recent: list[ComplaintPlan] = []

    def number(self, at: datetime) -> str:
        day = self.when.day(at).strftime("%Y%m%d")
        while True:
            number = f"TS{day}{self.rng.randrange(10**6):06d}"
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def text(self, category: str, channel: str, organ: Organ, matter_name: str, at: datetime) -> tuple[str, str]:
        rng = self.rng
        templates = T.SMS_TEMPLATES if channel == "sms" else T.COMPLAINT_TEMPLATES[category]
        title, content = rng.choice(templates)
        values = dict(organ=organ.name, matter=matter_name, window=rng.choice(T.WINDOWS), n=rng.randint(2, 6),
                      days=rng.randint(15, 90), month=_month_day(self.when.day(at - timedelta(days=rng.randint(5, 60)))),
                      place=rng.choice(T.PLACES), issue=rng.choice(T.ISSUES), amount=rng.choice((200, 500, 800, 1500, 3000)),
                      policy=rng.choice(T.POLICIES))
        return title.format(**values)[:200], content.format(**values)

    def draw(self, index: int, received: datetime | None, channel: str | None, force: dict,
             duplicate_of: ComplaintPlan | None) -> ComplaintPlan:
        rng, w = self.rng, self.w
        channel = channel or rng.choices(list(CHANNELS), list(CHANNELS.values()))[0]
        received = received or received_moment(rng, self.when, self.now, channel)
        if duplicate_of is not None:
            base = duplicate_of
            organ, region, who = base.organ, base.region, base.who
            category, title = base.fields["category"], base.fields["title"]
            content = base.fields["content"] + _("（此前已反映过，至今未见处理结果，再次投诉。）")
            matter, case = base.fields["matter_id"], base.fields["case_id"]
        else:
            organ = rng.choices(w.organs, w.weights)[0]
            region = w.regions.get(organ.region_code) or organ.region
            if channel == "hotline" and region.level == 3 and rng.random() < 0.5:
                region = w.regions.get(organ.region_code[:4], region)  # the city's 12345 hotline
            code = "other" if channel == "sms" and rng.random() < 0.7 else rng.choices(
                list(CATEGORY_WEIGHTS), list(CATEGORY_WEIGHTS.values()))[0]
            category = w.categories.get(code) or w.categories["other"]
            matter, matter_name = rng.choice(w.matters[organ.pk])
            title, content = self.text(category.code, channel, organ, matter_name, received)
            cases = w.cases.get(organ.pk)
            case = rng.choice(cases) if cases and rng.random() < 0.08 else None
            anonymous = channel not in ("visit", "interview", "letter") and rng.random() < (0.25 if channel == "web" else 0.2)
            place = region.name if region.level > 1 else "广州市"
            who = ident.Identity() if anonymous else identity(rng, place, letter=channel == "letter",
                                                              email=channel == "web" and rng.random() < 0.15)
        anonymous = who.is_empty()
        if anonymous:
            reply_channel = "web"
        elif channel == "letter" and who.address:
            reply_channel = "letter"
        elif who.email and rng.random() < 0.5:
            reply_channel = "email"
        else:
            reply_channel = rng.choice(("sms", "sms", "sms", "phone", "web"))
        number = self.number(received)
        secret = "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _i in range(8))
        fields = dict(
            number=number, secret_hash=secret_digest(number, secret), channel=channel,
            source_ref=_source_ref(rng, channel, received, index), category=category, title=title, content=content,
            region=region, region_code=region.prefix, office=w.nearest(w.offices, region.prefix),
            named_organ=organ.name, matter_id=matter, case_id=case,
            address_string=f"{organ.region.name}{rng.choice(T.STREETS)}{rng.randint(1, 500)}号" if rng.random() < 0.3 else "",
            anonymous=anonymous, reply_channel=reply_channel, received_at=received,
            content_digest=_content_digest(title, content), **ident.stored(who),
        )
        plan = ComplaintPlan(index, uuid.uuid5(TOKEN_NAMESPACE, f"complaint:{index}"), fields, organ, region,
                             fields["office"], who, secret=secret)
        if duplicate_of is not None and duplicate_of.open_at(received):
            plan.possible_duplicate = duplicate_of
        self.life.live(plan, force)
        plan.steps[0]["data"]["possible_duplicate"] = None  # set to the pk when written
        return plan

    def duplicate_candidate(self, received: datetime) -> ComplaintPlan | None:
        """A named complaint of the last few days that is still open: the same person complains again."""
        found = [p for p in self.recent if not p.fields["anonymous"] and p.merged_into is None
                 and timedelta(days=1) <= received - p.fields["received_at"] <= timedelta(days=6) and p.open_at(received)]
        return self.rng.choice(found) if found else None

    def plans(self, count: int, progress) -> list[ComplaintPlan]:
        """`count` plans: random ones in received order, then the showcase (when count allows)."""
        showcase = list(SHOWCASE) if count >= 3 * len(SHOWCASE) else []
        randoms = count - len(showcase)
        out: list[ComplaintPlan] = []
        channels = self.rng.choices(list(CHANNELS), list(CHANNELS.values()), k=randoms)
        moments = sorted((received_moment(self.rng, self.when, self.now, ch), ch) for ch in channels)
        for i, (received, channel) in enumerate(moments):
            duplicate = self.duplicate_candidate(received) if self.rng.random() < 0.03 else None
            plan = self.draw(i, received, channel, {}, duplicate)
            out.append(plan)
            self.recent = [p for p in self.recent[-200:] if received - p.fields["received_at"] < timedelta(days=7)]
            self.recent.append(plan)
            progress(i + 1, count, "complaints planned")
        by_name = {}
        for j, name in enumerate(showcase, start=randoms):
            ago, channel, force = SHOWCASE[name]
            day = self.when.back(self.now, ago)
            received = min(self.when.moment(day), self.now - timedelta(hours=1))
            original = by_name.get("routed_late") if name == "merged" else None
            by_name[name] = self.draw(j, received, channel, force, original)
            out.append(by_name[name])
        return out


def _month_day(d: date) -> str:
    return f"{d.month}月{d.day}日"


def _content_digest(title: str, content: str) -> str:
    from .actions import content_digest

    return content_digest(title, content)


# --- writing the complaints --------------------------------------------------------------------


def write_complaints(plans: list[ComplaintPlan], known: dict[uuid.UUID, int], progress) -> None:
    """Complaints, their clocks, steps, extension requests and identity grants, in bulk.

    `known` maps tokens of complaints already in the database to their ids (a top-up run
    links its duplicates to them)."""
    if not plans:
        return
    first = reserve_ids(Complaint, len(plans))
    for i, p in enumerate(plans):
        p.pk = first + i

    def pk(plan: ComplaintPlan | None):
        return None if plan is None else (plan.pk or known.get(plan.token))

    write_clocks([c for p in plans for c in p.clocks], Complaint)
    progress(len(plans) // 4, len(plans), "complaint clocks written")
    insert_rows(Complaint, [
        dict(p.fields, id=p.pk, token=p.token, status=p.status, acceptance_clock_id=p.clocks[0].pk,
             handling_clock_id=p.handling.pk if p.handling else None, merged_into_id=pk(p.merged_into),
             possible_duplicate_id=pk(p.possible_duplicate),
             masked=masked_copies({name: p.fields.get(name, "") for name in TEXT_FIELDS}, p.who))
        for p in plans])
    progress(len(plans) // 2, len(plans), "complaints written")
    steps, requests, grants = [], [], []
    for p in plans:
        p.steps[0]["data"]["possible_duplicate"] = pk(p.possible_duplicate)
        # Texts with their masked copies, as the actions store them (masking.py); the seed holds the identity.
        for s in sorted(p.steps, key=lambda s: s["at"]):  # stable: same-moment steps keep their order
            steps.append(dict(s, complaint_id=p.pk, text_masked=ident.mask_in(s["text"], p.who) if s["text"] else ""))
        requests += [dict(r, complaint_id=p.pk, masked=masked_copies({"reasons": r["reasons"], "note": r["note"]}, p.who))
                     for r in p.extensions]
        grants += [dict(g, complaint_id=p.pk, reasons_masked=ident.mask_in(g["reasons"], p.who)) for g in p.grants]
    insert_rows(ComplaintStep, steps)
    insert_rows(ExtensionRequest, requests)
    insert_rows(IdentityGrant, grants)
    progress(len(plans), len(plans), "complaint steps written")


# --- the step ----------------------------------------------------------------------------------


def _count(name: str, default: int) -> int:
    import os

    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    if not raw.isdigit():
        from django.core.management.base import CommandError

        raise CommandError(f"{name} must be a whole number, not {raw!r}")
    return int(raw)


def seed_complaints(scale: str, progress=null_progress, *, now: datetime | None = None,
                    complaints: int | None = None, ratings: int | None = None) -> str:
    """Categories, a year of complaints and of ratings (see the module docstring); idempotent."""
    now = now or timezone.now()
    complaints = _count("XIAONENG_SEED_COMPLAINTS", COMPLAINTS) if complaints is None else complaints
    ratings = _count("XIAONENG_SEED_RATINGS", RATINGS) if ratings is None else ratings
    loaded = categories.load()
    parts = [loaded.summary()]
    world = World.load()
    if not world.organs:
        return parts[0] + "; no complaints or ratings: no organ has matters yet (run the matters step first)"
    tokens = [uuid.uuid5(TOKEN_NAMESPACE, f"complaint:{i}") for i in range(complaints)]
    known = {}
    for start in range(0, len(tokens), 5000):
        known.update(Complaint.objects.filter(token__in=tokens[start:start + 5000]).values_list("token", "pk"))
    if len(known) >= complaints:
        parts.append(f"{len(known)} demo complaints (kept)")
    else:
        planner = Planner(world, now, set(Complaint.objects.values_list("number", flat=True)))
        plans = [p for p in planner.plans(complaints, progress) if p.token not in known]
        write_complaints(plans, known, progress)
        statuses = defaultdict(int)
        for p in plans:
            statuses[p.status] += 1
        parts.append(f"{len(plans)} demo complaints ({', '.join(f'{k} {v}' for k, v in sorted(statuses.items()))})")
        shown = next((p for p in plans if p.status == S.REPLIED and p.fields["region_code"].startswith("440106")),
                     next((p for p in plans if p.status == S.REPLIED), None))
        if shown:  # printed, not returned: the summary goes to the audit log
            progress(1, 1, f"public follow-up: complaint {shown.fields['number']} code {shown.secret}")
    present = Rating.objects.count()
    if present >= ratings:
        parts.append(f"{present} ratings (kept)")
    else:
        from .seed_ratings import plan_ratings, write_ratings

        rng = random.Random(RNG_SEED + present)
        plans = plan_ratings(world, ratings - present, now, rng, progress)
        write_ratings(plans, progress)
        bad = sum(1 for p in plans if p.fields["level"] <= 2)
        parts.append(f"{len(plans)} ratings ({bad} bad, {sum(1 for p in plans if p.clock)} on a rectification clock)")
    return "; ".join(parts)


register_seed_step("complaints", 80, seed_complaints)
