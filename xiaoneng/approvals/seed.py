"""Demo data for approvals: a matter catalogue per bureau, a year of cases, an exchange source.

Seed steps registered with `xiaoneng seed` (registry: xiaoneng.orgs.seed):

- ``matters`` (50): the catalogue in ``data/matters.json`` — real-sounding matters per
  bureau (市场监管 食品经营许可, 住建 建筑工程施工许可, 发改 企业投资项目核准 in parallel with
  自然资源/生态环境/住建, …) — for the seeded bureaus at the levels that implement them
  (at ``demo`` scale those of the province, 广州 and 深圳; at larger scales all), created
  through ``catalogue.do_create_matter`` and in force from two years back.
- ``cases`` (60): a realistic year of cases ending now.
  * Every scale: ``DEMO_CASES`` cases in 广州 (city and districts, 天河 most), 深圳市 and the
    province, each driven through the real actions (``do_submit_case``, ``do_accept_case``,
    …) with its own timeline: most decided well within the promise, some near it, a few
    late against the promise or the law; corrections (a few notices late, so the case
    counts as accepted from receipt), suspensions with legal basis and announced days
    (a few without a basis, for electronic supervision to find), extensions, refusals,
    denials, withdrawals, parallel approvals, first reviews by a district bureau,
    certificates (a few late), fees (a few above the standard); applications received
    lately are still open. The data is exactly what the workflow writes — clocks, status
    changes, events, audit entries — except the applicants' phone numbers, which are
    filled in afterwards so that seeding does not send thousands of SMS through the
    configured notification backend.
    At ~45 ms (SQLite) to ~100 ms (PostgreSQL) a case — some 150 queries and 20 audit
    entries each — ``DEMO_CASES`` is what keeps ``seed --scale demo`` near a minute.
  * ``large`` (100,000) and ``province`` (10,000,000): many more through the bulk path
    (``seed_bulk``): rows generated with numpy, deadlines computed vectorised, loaded with
    PostgreSQL COPY (plain inserts elsewhere; ``province`` on SQLite refuses unless
    ``XIAONENG_SEED_CASES`` asks for a smaller count).
- ``exchange`` (70): one demo exchange source for 广州市天河区市场监督管理局; its key is
  printed. Keys are stored hashed, so a re-run rotates the key and prints the new one.
  Secrets (the key, the demo look-up code) go out through `progress`, never in the step's
  summary, which the seed command records in the audit log.

Every step is idempotent: existing matters are kept, the demo set and the bulk cases are
topped up to their counts (a re-run adds nothing; an interrupted one adds what is missing). ``XIAONENG_SEED_CASES=N`` overrides the count (the demo
set at ``demo`` scale, the bulk count at larger scales); ``seed --cases N`` should set it.
"""
from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import Substr
from django.utils import timezone

from xiaoneng.calendar import engine as calendar_engine
from xiaoneng.lib.workdays import WorkCalendar, index_day
from xiaoneng.orgs.models import Organ
from xiaoneng.orgs.seed import (
    GIVEN,
    SEED_MARK,
    SURNAMES,
    TEMPLATE_BY_KEY,
    null_progress,
    organ_credit_code,
    register_seed_step,
)

from . import actions
from .catalogue import Rules, StepSpec, do_create_matter
from .models import Case, Matter, MatterVersion, Outcome

DATA_FILE = Path(__file__).parent / "data" / "matters.json"
KIND_CODE = {"licence": "XK", "confirmation": "QR", "payment": "GF", "service": "FW", "other": "QT"}
DEMO_CASES = 400  # through the real actions: ~45 ms a case on SQLite, ~100 ms on PostgreSQL (2 cores)
BULK_CASES = {"demo": 0, "large": 100_000, "province": 10_000_000}
DEMO_CASE_MARK = "XN"  # demo case numbers: XN + region + received date + sequence
CASES_ENV = "XIAONENG_SEED_CASES"
RNG_SEED = 20260928
DEMO_SOURCE = "demo-tianhe-scjg"
TIANHE = "440106000000"
# Applications at the 天河 market-regulation bureau (the demo handler's and leader's organ) in the
# last three working days, so that they find open cases on their home page: a year spread evenly
# leaves the last days nearly empty.
RECENT_TIANHE = 8
# Where the demo set lives, and how busy each place is relative to the others.
# County matters see far more applications than city or province ones; these factors give
# roughly 天河 30%, the other districts of 广州 30%, 广州市 20%, 深圳市 15%, the province 5%.
DEMO_PLACES = {"440106": 6.4, "440100": 8.7, "4401": 0.64, "440300": 6.5, "440000": 29.0}
SUSPENSION_BASIS = "《中华人民共和国行政许可法》第四十五条"


# --- the catalogue --------------------------------------------------------------------------


@dataclass(frozen=True)
class MatterSpec:
    template: int
    n: int
    name: str
    kind: str
    levels: tuple[int, ...]
    weight: int
    basis: str
    legal: int
    unit: str
    promised: int
    materials: tuple[str, ...]
    steps: tuple[tuple[str, int, bool], ...]
    fee: tuple[Decimal, str] | None = None
    parallel: tuple[int, ...] = ()
    joint: int | None = None
    first_review: bool = False
    person: bool = False

    def code(self, region_code: str) -> str:
        return f"{region_code[:6]}-{KIND_CODE[self.kind]}-{self.template:02d}{self.n:02d}"

    def rules(self, co_organs: list[Organ], since: datetime) -> Rules:
        return Rules(
            legal_basis=self.basis, legal_limit=self.legal, promised_limit=self.promised, legal_unit=self.unit,
            promised_unit=self.unit, is_free=self.fee is None, fee_standard=self.fee[0] if self.fee else None,
            fee_basis=self.fee[1] if self.fee else "", materials=list(self.materials),
            steps=[StepSpec(name, limit, "working", first) for name, limit, first in self.steps],
            needs_first_review=self.first_review, is_parallel=bool(self.parallel), co_organs=co_organs,
            joint_limit=self.joint, effective_from=since,
        )


@cache
def catalogue_specs() -> tuple[MatterSpec, ...]:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    specs = []
    for bureau in data["bureaus"]:
        for m in bureau["matters"]:
            fee = m.get("fee")
            specs.append(MatterSpec(
                template=bureau["template"], n=m["n"], name=m["name"], kind=m["kind"], levels=tuple(m["levels"]),
                weight=m["weight"], basis=m["basis"], legal=m["legal"][0], unit=m["legal"][1], promised=m["promised"],
                materials=tuple(m["materials"]),
                steps=tuple((s[0], s[1], bool(s[2]) if len(s) > 2 else False) for s in m["steps"]),
                fee=(Decimal(fee["standard"]), fee["basis"]) if fee else None, parallel=tuple(m.get("parallel", ())),
                joint=m.get("joint"), first_review=bool(m.get("first_review")), person=m.get("applicant") == "person",
            ))
    return tuple(specs)


def spec_of(code: str) -> MatterSpec | None:
    """The catalogue entry a seeded matter code was made from (``440106-XK-1801`` → 市场监管 n°1)."""
    tail = code.rsplit("-", 1)[-1]
    if len(tail) != 4 or not tail.isdigit():
        return None
    template, n = int(tail[:2]), int(tail[2:])
    return next((s for s in catalogue_specs() if (s.template, s.n) == (template, n)), None)


def seeded_organs():
    """Organs the organ seed made (credit code body starts with SEED_MARK), with their regions."""
    return Organ.objects.annotate(mark=Substr("credit_code", 9, 2)).filter(mark=SEED_MARK).select_related("region")


def catalogue_since(now: datetime | None = None) -> datetime:
    """Seeded matters are in force from 1 January two years back, before the year of cases."""
    local = timezone.localtime(now or timezone.now())
    return datetime(local.year - 2, 1, 1, tzinfo=local.tzinfo)


def catalogue_place(organ: Organ, scale: str) -> bool:
    """At demo scale only the places with demo cases get a catalogue (a matter costs ~20 queries)."""
    return scale != "demo" or organ.region.level == 1 or organ.region.code[:4] in ("4401", "4403")


def seed_matters(scale: str, progress=null_progress) -> str:
    """Create the catalogue's matters for every seeded bureau that implements them (idempotent)."""
    organs = list(seeded_organs())
    by_code = {o.credit_code: o for o in organs}
    existing = set(Matter.objects.values_list("code", flat=True))
    since = catalogue_since()
    todo = []
    for organ in organs:
        level = organ.region.level
        template = int(organ.credit_code[13:15])
        if not catalogue_place(organ, scale):
            continue
        if template not in TEMPLATE_BY_KEY or organ.credit_code != organ_credit_code(
            template, TEMPLATE_BY_KEY[template].legal, organ.region.code
        ):
            continue  # a township government or an organ the seed did not make from a template
        for spec in catalogue_specs():
            if spec.template == template and level in spec.levels and spec.code(organ.region.code) not in existing:
                todo.append((organ, spec))
    for done, (organ, spec) in enumerate(todo, start=1):
        co = [by_code.get(organ_credit_code(k, TEMPLATE_BY_KEY[k].legal, organ.region.code)) for k in spec.parallel]
        co = [o for o in co if o is not None]
        if spec.parallel and not co:
            continue  # co-organs not seeded at this scale
        do_create_matter(code=spec.code(organ.region.code), name=spec.name, kind=spec.kind, organ=organ,
                         rules=spec.rules(co, since))
        progress(done, len(todo))
    total = Matter.objects.filter(organ__in=seeded_organs().values("pk")).count()
    return f"{total} matters ({len(todo)} new)"


# --- names ------------------------------------------------------------------------------------

TRADE_NAMES = (
    "粤华 穗丰 南粤 珠江 鹏程 华南 嘉盛 恒通 利达 金穗 宏图 顺景 天朗 海晟 广信 润丰 万和 东升 兴业 永安 新锐 卓越 瑞祥 泰和 "
    "德隆 骏业 汇通 和盛 信达 启航 云帆 岭南 羊城 越秀 明珠 晨曦 锦程 华茂 富强 安泰"
).split()
INDUSTRY = {
    1: ("投资发展", "能源科技", "产业园开发"), 2: ("教育科技", "培训学校", "文化教育"), 3: ("化工", "矿业", "爆破工程"),
    4: ("行业协会", "商会", "促进会"), 5: ("律师事务所",), 6: ("财务咨询", "会计服务", "企业管理咨询"),
    7: ("人力资源", "劳务服务", "企业服务"), 8: ("房地产开发", "置业", "实业"), 9: ("环保科技", "精细化工", "电子制造"),
    10: ("建筑工程", "房地产开发", "建设集团"), 11: ("物流", "汽车运输", "客运"), 12: ("水务", "水电开发", "供水"),
    13: ("农资", "种业", "生态农业"), 14: ("进出口贸易", "石油化工", "供应链管理"), 15: ("文化传播", "旅行社", "娱乐"),
    16: ("医疗管理", "门诊部", "口腔门诊"), 17: ("化工贸易", "烟花爆竹零售", "危险品仓储"),
    18: ("食品", "餐饮管理", "机电设备"), 19: ("科技", "商贸", "实业"),
}
COMPANY_FORMS = ("有限公司", "有限公司", "有限公司", "股份有限公司", "有限责任公司")


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))


def applicant_name(rng: random.Random, spec: MatterSpec, place: str) -> str:
    if spec.person or rng.random() < 0.05:
        return person_name(rng)
    industry = rng.choice(INDUSTRY.get(spec.template, ("实业",)))
    if industry.endswith(("事务所", "协会", "商会", "促进会", "门诊部", "学校")):
        return f"{place}{rng.choice(TRADE_NAMES)}{industry}"
    return f"{place}{rng.choice(TRADE_NAMES)}{industry}{rng.choice(COMPANY_FORMS)}"


def phone_number(rng: random.Random) -> str:
    return rng.choice(("13", "15", "18", "17", "19")) + f"{rng.randrange(10**9):09d}"


# --- the demo set: timelines through the real actions -----------------------------------------

CORRECTION_ITEMS = (
    "营业执照复印件不清晰，请提供清晰的复印件", "申请书缺少法定代表人签字", "场所平面图未标注尺寸和功能分区",
    "缺少房屋产权证明或租赁合同", "从业人员健康证明已过期", "授权委托书缺少委托人签章", "申请表填写不完整（联系电话、住所）",
    "安全管理制度文本缺少应急处置内容", "提交的身份证明与申请人不一致",
)
REFUSAL_REASONS = (
    "申请事项依法不属于本机关职权范围，请向有管辖权的机关申请", "申请人未在规定期限内补正材料", "申请事项依法不需要取得行政许可",
    "申请人隐瞒有关情况、提供虚假材料，一年内不得再次申请",
)
DENIAL_REASONS = (
    "经现场核查，经营场所与申请材料不符，不符合许可条件", "设施设备不符合国家标准要求", "专家评审认为技术方案不可行",
    "项目选址不符合国土空间规划", "安全评价报告结论为不符合安全条件",
)
SUSPENSIONS = (("专家评审", (7, 10, 15)), ("现场勘验", (5, 7)), ("检验检测", (10, 15, 20)),
               ("听证", (15, 20)), ("公示", (7, 10)), ("技术鉴定", (15, 30)))
EXTENSION_REASONS = ("申请材料涉及多个部门，需征求意见", "项目情况复杂，需组织现场核查", "需补充开展技术审查")
WITHDRAW_REASONS = ("申请人主动撤回申请", "项目暂缓实施，申请人申请撤回", "申请人更换经营场所后重新申请")
OFFICIAL_TITLES = {1: "厅长", 2: "局长", 3: "局长"}


@dataclass
class Step:
    at: datetime
    action: str
    kwargs: dict = field(default_factory=dict)
    sub: int | None = None  # a parallel application's sub-case (index in case-number order)


class Clockwork:
    """Working-day helpers over the calendar, for drawing realistic moments."""

    def __init__(self, cal: WorkCalendar, rng: random.Random, zone: ZoneInfo):
        self.cal, self.rng, self.zone = cal, rng, zone

    def working(self, d: date) -> date:
        while not self.cal.is_working(d):
            d += timedelta(days=1)
        return d

    def add(self, d: date, n: int) -> date:
        return self.cal.add_working_days(d, n) if n > 0 else self.working(d)

    def span(self, a: date, b: date) -> int:
        return self.cal.working_days_between(a, b) if b > a else 0

    def due(self, start: date, n: int, unit: str) -> date:
        return index_day(self.cal.compute(start, n, unit).due_index)

    def moment(self, d: date, after: datetime | None = None) -> datetime:
        """Office hours on day `d`, later than `after`."""
        at = datetime.combine(d, time(8, 30), tzinfo=self.zone) + timedelta(minutes=self.rng.randrange(0, 540))
        if after is not None and at <= after:
            at = after + timedelta(minutes=self.rng.randrange(5, 90))
        return at


def plan_case(cw: Clockwork, version: MatterVersion, steps: list, received: datetime, subs: int,
              head: str = "局长") -> list[Step]:
    """One application's timeline, from receipt to closing (the runner stops at now).

    1. Before acceptance: a correction notice (on time, or a few late → counts as accepted
       from receipt), a refusal, or a late acceptance without notice.
    2. The decision day, relative to the promised and the legal deadline: most well within
       the promise, some near it, some late against the promise, a few late against the law.
    3. Around it: a suspension (the decision moves by the days stood still), an
       extension for the long ones, the steps spread over the handling time, a withdrawal.
    4. After it: fee, certificate (a few late) and closing; sub-cases of a parallel
       application are decided by their organs first.
    """
    rng = cw.rng
    out: list[Step] = []

    def add(day: date, action: str, sub: int | None = None, **kwargs) -> datetime:
        at = cw.moment(day, out[-1].at if out else received)
        out.append(Step(at, action, kwargs, sub))
        return at

    d0 = timezone.localtime(received, cw.zone).date()
    deemed = False
    r = rng.random()
    if r < 0.16:
        late = r < 0.018
        notice = cw.add(d0, rng.randint(6, 9) if late else rng.randint(1, 4))
        deemed = late
        add(notice, "request_correction", items=rng.sample(CORRECTION_ITEMS, rng.randint(1, 3)))
        corrected = cw.add(notice, rng.randint(2, 8))
        add(corrected, "mark_corrected")
        if rng.random() < 0.08 and not subs and not late:
            add(cw.add(corrected, rng.randint(1, 3)), "refuse", reasons=rng.choice(REFUSAL_REASONS))
            return out
        accept_day = cw.add(corrected, rng.randint(0, 2))
    elif r < 0.19 and not subs:
        add(cw.add(d0, rng.randint(1, 3)), "refuse", reasons=rng.choice(REFUSAL_REASONS))
        return out
    elif r < 0.2:
        accept_day, deemed = cw.add(d0, rng.randint(6, 8)), True  # accepted late, without a notice
    else:
        accept_day = cw.add(d0, rng.choice((0, 0, 1, 1, 1, 2)))
    add(accept_day, "accept")
    start = d0 if deemed else accept_day

    v = version
    legal_limit = v.joint_limit if subs else v.legal_limit
    legal_unit = "working" if subs else v.legal_unit
    promise_due = cw.due(start, v.promised_limit, v.promised_unit)
    legal_due = cw.due(start, legal_limit, legal_unit)
    span = max((promise_due - start).days, 1)
    u = rng.random()
    extension = 0
    if u < 0.8:
        decide = start + timedelta(days=max(1, round(span * rng.uniform(0.15, 0.7))))
    elif u < 0.93:
        decide = start + timedelta(days=max(1, round(span * rng.uniform(0.7, 1.0))))
        decide = min(cw.working(decide), promise_due)
    elif u < 0.97 and legal_due > promise_due:
        decide = promise_due + timedelta(days=rng.randint(1, max(1, (legal_due - promise_due).days)))
    else:
        maximum = v.joint_extension_max if subs else v.extension_max
        if rng.random() < 0.55:
            extension = rng.choice((maximum, maximum, maximum // 2 or 1))
            extended_due = cw.add(legal_due, extension)
            decide = cw.add(legal_due, rng.randint(1, extension)) if rng.random() < 0.8 else cw.add(extended_due, rng.randint(1, 3))
        else:
            decide = cw.add(legal_due, rng.randint(1, 6))  # late against the law
    decide = max(cw.working(decide), accept_day)

    withdraw = not extension and rng.random() < 0.025
    suspend = None
    if not withdraw and rng.random() < 0.08:
        reason, lengths = rng.choice(SUSPENSIONS)
        announced = rng.choice(lengths)
        first = cw.add(accept_day, max(1, round(cw.span(accept_day, decide) * rng.uniform(0.2, 0.5))))
        back = cw.working(first + timedelta(days=max(1, announced + rng.randint(-2, 3))))
        stood = cw.span(first, back)
        decide = cw.add(decide, stood) if decide > first else cw.add(back, 1)
        basis = SUSPENSION_BASIS if rng.random() > 0.1 else ""
        suspend = (first, back, reason, announced, basis)

    events: list[tuple[date, int, str, dict, int | None]] = []  # (day, order within the day, action, kwargs, sub)
    if suspend:
        first, back, reason, announced, basis = suspend
        events.append((first, 1, "suspend", {"reason": reason, "announced_days": announced, "legal_basis": basis}, None))
        events.append((back, 0, "resume", {}, None))
    if extension:
        day = cw.working(max(accept_day, legal_due - timedelta(days=rng.randint(1, 4))))
        if suspend and suspend[0] <= day <= suspend[1]:
            day = suspend[1]
        events.append((min(day, decide), 5, "extend", {
            "days": extension, "reasons": rng.choice(EXTENSION_REASONS),
            "approver_name": person_name(rng)[0] + ("市长" if subs else head)}, None))
    # Steps: spread over the handling time, never while suspended.
    withdrawn_on = None
    if withdraw:
        withdrawn_on = cw.add(accept_day, max(1, round(cw.span(accept_day, decide) * rng.uniform(0.2, 0.8))))
        events.append((withdrawn_on, 90, "withdraw", {"reason": rng.choice(WITHDRAW_REASONS)}, None))
    last_step_day = accept_day
    for k, step in enumerate(steps, start=1):
        day = cw.working(accept_day + timedelta(days=round((decide - accept_day).days * k / len(steps))))
        if suspend and suspend[0] <= day <= suspend[1]:
            day = suspend[1]
        day = min(max(day, accept_day), decide)
        if withdrawn_on and day >= withdrawn_on:
            break
        events.append((day, 6 + k, "complete_step", {"step": step.name, "handler": person_name(rng)}, None))
        last_step_day = day
    if withdraw:
        decide = None
    # Parallel approval: each co-organ decides its sub-case before the lead organ decides.
    if subs and decide is not None:
        latest = accept_day
        for i in range(subs):
            day = start + timedelta(days=round((decide - start).days * rng.uniform(0.4, 0.95)))
            day = min(cw.working(max(day, accept_day)), decide)
            if suspend and suspend[0] <= day <= suspend[1]:
                day = suspend[1]
            events.append((day, 20 + i, "decide", {"outcome": Outcome.GRANTED}, i))
            events.append((day, 40 + i, "close", {}, i))
            latest = max(latest, day)
        decide = max(decide, latest)
    events.sort(key=lambda e: (e[0], e[1]))
    for day, _order, action, kwargs, sub in events:
        add(day, action, sub, **kwargs)
    if decide is None:
        return out
    decide = max(decide, last_step_day)
    granted = rng.random() > 0.06
    if granted:
        add(decide, "decide", outcome=Outcome.GRANTED)
        late = rng.random() < 0.03
        issue = cw.add(decide, rng.randint(11, 14) if late else rng.choice((0, 1, 1, 2, 3, 5)))
        if not v.is_free:
            amount = v.fee_standard * (Decimal("1.5") if rng.random() < 0.03 else 1)
            add(issue, "charge_fee", amount=amount.quantize(Decimal("0.01")))
        add(issue, "issue_certificate")
    else:
        add(decide, "decide", outcome=Outcome.DENIED, reasons=rng.choice(DENIAL_REASONS))
        issue = cw.add(decide, rng.randint(0, 2))
    add(issue, "close")
    return out


RUNNERS = {
    "request_correction": actions.do_request_correction,
    "mark_corrected": actions.do_mark_corrected,
    "accept": actions.do_accept_case,
    "refuse": actions.do_refuse_case,
    "complete_step": actions.do_complete_step,
    "suspend": actions.do_suspend_case,
    "resume": actions.do_resume_case,
    "extend": actions.do_extend_case,
    "decide": actions.do_decide_case,
    "charge_fee": actions.do_charge_fee,
    "issue_certificate": actions.do_issue_certificate,
    "close": actions.do_close_case,
    "withdraw": actions.do_withdraw_case,
}


def run_case(case: Case, timeline: list[Step], now: datetime) -> int:
    """Apply the timeline's steps that lie in the past; returns how many ran."""
    subs = list(case.subcases.order_by("case_no")) if case.is_parallel else []
    ran = 0
    for step in timeline:
        if step.at > now:
            break
        target = subs[step.sub] if step.sub is not None else case
        RUNNERS[step.action](target, at=step.at, **step.kwargs)
        ran += 1
    return ran


@dataclass
class DemoMatter:
    matter: Matter
    version: MatterVersion
    spec: MatterSpec
    steps: list
    weight: float
    lower: list[Organ]  # organs that may do the first review
    place: str


def demo_matters() -> list[DemoMatter]:
    """Seeded matters in the demo places, weighted by volume and by how busy the place is."""
    out = []
    organs = {o.pk: o for o in seeded_organs()}
    cities = {o.region.code[:4]: o.region.name for o in organs.values() if o.region.level == 2}
    matters = Matter.objects.filter(organ__in=seeded_organs().values("pk"), current__isnull=False)
    matters = matters.select_related("current", "organ__region")
    for matter in matters.prefetch_related("current__steps"):
        organ = organs[matter.organ_id]
        spec = spec_of(matter.code)
        place = next((p for p in sorted(DEMO_PLACES, key=len, reverse=True) if organ.region.code.startswith(p)), None)
        if spec is None or place is None:
            continue
        lower = []
        if spec.first_review:
            level = organ.region.level
            lower = [o for o in organs.values() if o.region.level == level + 1 and int(o.credit_code[13:15]) == spec.template
                     and o.region.code.startswith(organ.region.code[: 2 if level == 1 else 4])]
            lower.sort(key=lambda o: o.credit_code)
        label = cities.get(organ.region.code[:4], "广东") if organ.region.level > 1 else "广东"
        out.append(DemoMatter(matter, matter.current, spec, list(matter.current.steps.all()),
                              spec.weight * DEMO_PLACES[place], lower, label))
    out.sort(key=lambda m: m.matter.code)
    return out


def _working_days(cal: WorkCalendar, first: date, last: date) -> list[date]:
    days, d = [], first
    while d <= last:
        if cal.is_working(d):
            days.append(d)
        d += timedelta(days=1)
    return days


def seed_demo_cases(count: int, progress=null_progress, now: datetime | None = None, first: int = 1) -> tuple[int, str]:
    """`count` applications received over the year before `now`, each run through the actions.

    Each application is one transaction (a savepoint when the caller holds one), so a seed
    step run outside a transaction commits case by case. Case numbers end with a sequence
    from `first`. Returns (cases made, a line naming one open 天河 case and its lookup code).
    """
    now = now or timezone.now()
    zone = ZoneInfo(settings.TIME_ZONE)
    pool = demo_matters()
    if not pool or count <= 0:
        return 0, ""
    rng = random.Random(RNG_SEED)
    cw = Clockwork(calendar_engine.current(), rng, zone)
    today = timezone.localtime(now, zone).date()
    days = _working_days(cw.cal, today - timedelta(days=365), today)
    parallel = [m for m in pool if m.version.is_parallel]
    reviewed = [m for m in pool if m.version.needs_first_review and m.lower]
    plain = [m for m in pool if not m.version.is_parallel]
    tianhe = [m for m in plain if m.matter.organ.region.code == TIANHE and m.matter.organ.name.endswith("市场监督管理局")]
    recent = min(RECENT_TIANHE, count // 4) if tianhe else 0
    received_list = sorted([(rng.choice(days), False) for _ in range(count - recent)]
                           + [(rng.choice(days[-3:]), True) for _ in range(recent)])
    made, showcase = 0, None
    for i, (day, at_tianhe) in enumerate(received_list, start=first):
        r = rng.random()
        group = tianhe if at_tianhe else parallel if r < 0.03 and parallel else reviewed if r < 0.08 and reviewed else plain
        m = rng.choices(group, weights=[x.weight for x in group])[0]
        received = cw.moment(day)
        if received > now:
            received = now - timedelta(minutes=rng.randrange(30, 600))
        code = f"{rng.randrange(10**6):06d}"
        with transaction.atomic():
            case, _code = actions.do_submit_case(
                matter=m.matter, case_no=f"{DEMO_CASE_MARK}{m.matter.code[:6]}{received.astimezone(zone):%Y%m%d}{i:05d}",
                applicant_name=applicant_name(rng, m.spec, m.place), received_at=received, verify_code=code,
                first_review_organ=rng.choice(m.lower) if m.lower and m.version.needs_first_review else None,
            )
            subs = case.subcases.count() if case.is_parallel else 0
            timeline = plan_case(cw, m.version, m.steps, received, subs, OFFICIAL_TITLES[m.matter.organ.region.level])
            run_case(case, timeline, now)
            # The phone comes after the workflow: no SMS goes out for a year of seeded history.
            Case.objects.filter(pk=case.pk).update(applicant_phone=phone_number(rng))
        if m.matter.organ.region.code == TIANHE:
            showcase = (case.case_no, code)
        made += 1
        progress(i - first + 1, count)
    line = f"public look-up: case {showcase[0]} code {showcase[1]}" if showcase else ""
    return made, line


# --- the registered steps --------------------------------------------------------------------


def case_count_override() -> int | None:
    raw = os.environ.get(CASES_ENV, "").strip().replace("_", "")
    if not raw:
        return None
    if not raw.isdigit():
        raise CommandError(f"{CASES_ENV} must be a whole number of cases, not {raw!r}")
    return int(raw)


def seed_cases(scale: str, progress=null_progress) -> str:
    """The demo set through the actions (once), then the bulk path up to the scale's count."""
    from django.db import connection

    from . import seed_bulk

    override = case_count_override()
    demo_count = override if (override is not None and scale == "demo") else DEMO_CASES
    bulk_count = override if (override is not None and scale != "demo") else BULK_CASES[scale]
    if bulk_count and connection.vendor != "postgresql" and scale == "province" and override is None:
        raise CommandError(
            f"province scale loads {BULK_CASES['province']:,} cases with PostgreSQL COPY; this database is "
            f"{connection.vendor}. Set DATABASE_URL to a PostgreSQL database, use --scale large, or set "
            f"{CASES_ENV}=N for a smaller bulk load through plain inserts."
        )
    parts = []
    present = Case.objects.filter(case_no__under=DEMO_CASE_MARK, parent__isnull=True).count()
    if present >= demo_count:
        parts.append(f"{present} demo cases (kept)")
    else:  # none yet, or a run that was interrupted after committing some
        numbers = Case.objects.filter(case_no__under=DEMO_CASE_MARK, parent__isnull=True).values_list("case_no", flat=True)
        first = max((int(no[-5:]) for no in numbers if no[-5:].isdigit()), default=0) + 1
        made, line = seed_demo_cases(demo_count - present, progress, first=first)
        parts.append(f"{made} demo cases through the workflow" + (f" ({present} kept)" if present else ""))
        if line:  # printed, not returned: the command keeps the summary in the audit log
            progress(made, made, line)
    if bulk_count:
        parts.append(seed_bulk.load(bulk_count, progress))
    by_status = dict(Case.objects.filter(case_no__under=DEMO_CASE_MARK).values_list("status").annotate(n=Count("id")))
    if by_status and not bulk_count:
        parts.append(", ".join(f"{k} {v}" for k, v in sorted(by_status.items())))
    return "; ".join(parts)


def seed_exchange(scale: str, progress=null_progress) -> str:
    """One demo exchange source for 天河 市场监管; prints its key (a re-run rotates it)."""
    from .exchange import keys
    from .models import ExchangeSource

    organ = Organ.objects.filter(credit_code=organ_credit_code(18, "1", TIANHE)).first()
    if organ is None:
        return "no demo exchange source (天河 市场监管 not seeded)"
    source = ExchangeSource.objects.filter(code=DEMO_SOURCE).first()
    if source is None:
        source, key = keys.do_create_source(code=DEMO_SOURCE, organ_codes=[organ.credit_code],
                                            name=f"{organ.name}审批系统（演示）")
    else:
        key = keys.do_rotate_key(source)
    # The key goes to the terminal only: the summary line is kept in the audit log.
    progress(1, 1, f"demo exchange source {source.code}, key: {key}")
    return f"demo exchange source {source.code} for {organ.name} (key printed above; a re-run rotates it)"


register_seed_step("matters", 50, seed_matters)
register_seed_step("cases", 60, seed_cases)
register_seed_step("exchange", 70, seed_exchange)
