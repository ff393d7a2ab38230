"""The demo province: real regions of Guangdong, the usual organs, their people, demo users.

`xiaoneng seed --scale demo|large|province` runs the registered seed steps in order.
Every step is idempotent (a re-run adds what is missing and duplicates nothing) and fast
(bulk inserts; the ORM-signal audit trail is replaced by one summary entry per step).

Scales, smallest first (`SCALES`):

- ``demo``: the province, all 21 cities and 122 counties, townships and villages of the
  featured counties (广州市天河区, 广州市从化区); organs of the province, of every city and of
  the counties of 广州市, plus the street/township governments of the featured counties.
- ``large``: the same regions; every county gets its bureaus.
- ``province``: large, plus every township in the data file and its township government.

Extending the seed (later issues add cases, complaints, …)::

    # <app>/seed.py
    from xiaoneng.orgs.seed import register_seed_step, scale_at_least

    def seed_cases(scale: str, progress) -> str | None:
        ...                       # idempotent; call progress(done, total) in long loops
        return "1200 cases"       # optional one-line summary

    register_seed_step("cases", order=50, fn=seed_cases)

The command imports ``<app>.seed`` of every installed app (``autodiscover_modules``), then
calls each step's ``fn(scale, progress)`` in ``order``, each inside its own transaction.
Orders used here: 10 regions, 20 organs, 30 people (units, posts, staff), 40 demo users.
"""
from __future__ import annotations

import csv
import random
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import reduce
from operator import or_
from pathlib import Path

from django.contrib.auth.password_validation import validate_password
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Substr

from xiaoneng.lib.codes import make_credit_code

from .models import Grant, Organ, OrganKind, Post, PostTarget, Region, Role, Staff, Unit, User

DATA_FILE = Path(__file__).parent / "data" / "guangdong_regions.csv"
SCALES = ("demo", "large", "province")
PROVINCE_CODE = "440000000000"
GUANGZHOU = "4401"
FEATURED_COUNTIES = ("440106", "440117")  # 天河区 (urban streets), 从化区 (rural towns)
DEMO_PASSWORD = "Demo@2026xn"
# Seeded organs carry "XN" at the head of the body of their credit code, so they can be
# told from real (imported) organs and matched again on a re-run.
SEED_MARK = "XN"


# --- the step registry -------------------------------------------------------------------

ProgressFn = Callable[..., None]


@dataclass(frozen=True)
class SeedStep:
    name: str
    order: int
    fn: Callable[[str, ProgressFn], str | None]


_STEPS: dict[str, SeedStep] = {}


def register_seed_step(name: str, order: int, fn: Callable[[str, ProgressFn], str | None]) -> None:
    """Add (or replace, by name) a step that `xiaoneng seed` runs in `order`."""
    _STEPS[name] = SeedStep(name, order, fn)


def seed_steps() -> list[SeedStep]:
    return sorted(_STEPS.values(), key=lambda s: (s.order, s.name))


def scale_at_least(scale: str, minimum: str) -> bool:
    return SCALES.index(scale) >= SCALES.index(minimum)


class Progress:
    """Prints "[3/7] organs 1234/3000" for long loops, at most twice a second."""

    def __init__(self, write: Callable[[str], None], index: int, count: int, name: str, interval: float = 0.5):
        self.write, self.head, self.interval = write, f"[{index}/{count}] {name}", interval
        self._last = 0.0

    def __call__(self, done: int, total: int, note: str = "") -> None:
        now = time.monotonic()
        if total == 0 or (done < total and now - self._last < self.interval):
            return
        self._last = now
        self.write(f"{self.head} {done}/{total}{' ' + note if note else ''}")


def null_progress(done: int, total: int, note: str = "") -> None:
    """For calling steps from tests or code without printing."""


# --- regions ------------------------------------------------------------------------------


def region_rows() -> list[dict]:
    with open(DATA_FILE, encoding="utf-8", newline="") as fh:
        return [
            {"code": r["code"], "name": r["name"], "level": int(r["level"]), "parent": r["parent_code"]}
            for r in csv.DictReader(fh)
        ]


def _wanted_region(row: dict, scale: str) -> bool:
    return row["level"] <= 3 or scale == "province" or row["code"][:6] in FEATURED_COUNTIES


def seed_regions(scale: str, progress: ProgressFn) -> str:
    """Create the missing regions level by level (a parent always exists before its child)."""
    rows = [r for r in region_rows() if _wanted_region(r, scale)]
    existing = {code: (pk, name) for code, pk, name in Region.objects.values_list("code", "id", "name")}
    ids = {code: pk for code, (pk, _name) in existing.items()}
    created = renamed = 0
    missing = sum(1 for r in rows if r["code"] not in existing)
    for level in range(1, 6):
        batch = []
        for r in rows:
            if r["level"] != level:
                continue
            if r["code"] in existing:
                if existing[r["code"]][1] != r["name"]:
                    Region.objects.filter(code=r["code"]).update(name=r["name"])
                    renamed += 1
                continue
            batch.append(
                Region(
                    code=r["code"],
                    name=r["name"],
                    level=level,
                    prefix=Region.prefix_for(r["code"], level),
                    parent_id=ids[r["parent"]] if r["parent"] else None,
                )
            )
        Region.objects.bulk_create(batch, batch_size=500)
        created += len(batch)
        ids.update(Region.objects.filter(level=level).values_list("code", "id"))
        progress(created, missing)
    return f"{len(rows)} regions ({created} new, {renamed} renamed)"


# --- organ templates ----------------------------------------------------------------------


@dataclass(frozen=True)
class OrganTemplate:
    """One kind of organ that every province, city and county has.

    Names are format strings over {p}, the place ("广东省", "广州市", "广州市天河区"), one per
    level (province, city, county); unit names use {s}, the level's section word (处/科/股).
    """

    key: int  # stable: part of the credit code, so a re-run finds the same organ
    names: tuple[str, str, str]
    short: str
    kind: str
    leader: str
    units: tuple[str, ...]
    legal: str = "1"  # GB 32100 category under 机构编制: 1 机关, 2 事业单位
    parent_key: int | None = None  # an organ housed in another of the same place

    def name_at(self, level: int, place: str) -> str:
        return self.names[min(level, 3) - 1].format(p=place)


def _g(key, city_name, short, leader, *units, province=None):
    """A government department: 厅 at province level unless `province` says otherwise."""
    province = province or city_name.replace("局", "厅")
    return OrganTemplate(key, ("{p}" + province, "{p}" + city_name, "{p}" + city_name), short, OrganKind.GOVERNMENT, leader, units)


COMMON_UNITS = ("办公室", "政策法规{s}", "行政审批{s}", "人事{s}", "财务{s}")

TEMPLATES: tuple[OrganTemplate, ...] = (
    _g(1, "发展和改革局", "发改", "局长", "规划{s}", "投资{s}", province="发展和改革委员会"),
    _g(2, "教育局", "教育", "局长", "基础教育{s}", "学生资助{s}"),
    _g(3, "公安局", "公安", "局长", "治安管理{s}", "出入境管理{s}"),
    _g(4, "民政局", "民政", "局长", "社会救助{s}", "养老服务{s}"),
    _g(5, "司法局", "司法", "局长", "行政执法协调监督{s}", "公共法律服务{s}"),
    _g(6, "财政局", "财政", "局长", "预算{s}", "政府采购监管{s}"),
    _g(7, "人力资源和社会保障局", "人社", "局长", "就业促进{s}", "劳动关系{s}"),
    _g(8, "自然资源局", "自然资源", "局长", "国土空间规划{s}", "不动产登记{s}"),
    _g(9, "生态环境局", "生态环境", "局长", "环境影响评价{s}", "生态环境执法{s}"),
    _g(10, "住房和城乡建设局", "住建", "局长", "建筑市场监管{s}", "房地产市场监管{s}"),
    _g(11, "交通运输局", "交通", "局长", "运输管理{s}", "建设管理{s}"),
    _g(12, "水务局", "水务", "局长", "水资源{s}", "河湖管理{s}", province="水利厅"),
    _g(13, "农业农村局", "农业农村", "局长", "乡村产业{s}", "农产品质量安全{s}"),
    _g(14, "商务局", "商务", "局长", "对外贸易{s}", "市场运行{s}"),
    _g(15, "文化广电旅游体育局", "文广旅体", "局长", "公共服务{s}", "市场管理{s}", province="文化和旅游厅"),
    _g(16, "卫生健康委员会", "卫健", "主任", "医政{s}", "疾病预防控制{s}", province="卫生健康委员会"),
    _g(17, "应急管理局", "应急", "局长", "安全生产基础{s}", "救灾和物资保障{s}"),
    _g(18, "市场监督管理局", "市场监管", "局长", "登记注册{s}", "食品安全协调{s}", province="市场监督管理局"),
    _g(19, "政务服务数据管理局", "政数", "局长", "政务服务{s}", "数据资源{s}", province="政务服务和数据管理局"),
    OrganTemplate(
        20, ("中共{p}纪律检查委员会",) * 3, "纪委监委", OrganKind.PARTY, "书记",
        ("办公室", "党风政风监督室", "信访室", "案件审理室", "第一监督检查室"),
    ),
    OrganTemplate(21, ("中共{p}委组织部",) * 3, "组织部", OrganKind.PARTY, "部长", ("办公室", "干部{s}", "组织{s}", "公务员管理{s}")),
    OrganTemplate(
        22, ("{p}人大常委会办公厅", "{p}人大常委会办公室", "{p}人大常委会办公室"), "人大办", OrganKind.CONGRESS, "主任",
        ("秘书{s}", "法制工作委员会", "代表工作委员会"),
    ),
    OrganTemplate(
        23, ("政协{p}委员会办公厅", "政协{p}委员会办公室", "政协{p}委员会办公室"), "政协办", OrganKind.CPPCC, "主任",
        ("秘书{s}", "提案委员会", "委员工作委员会"),
    ),
    OrganTemplate(
        24, ("{p}高级人民法院", "{p}中级人民法院", "{p}人民法院"), "法院", OrganKind.COURT, "院长",
        ("办公室", "立案庭", "民事审判庭", "行政审判庭", "执行局"),
    ),
    OrganTemplate(
        25, ("{p}人民检察院",) * 3, "检察院", OrganKind.PROCURATORATE, "检察长",
        ("办公室", "第一检察部", "第五检察部", "控告申诉检察部"),
    ),
    OrganTemplate(
        26, ("{p}公共资源交易中心",) * 3, "交易中心", OrganKind.INSTITUTION, "主任",
        ("综合{s}", "交易服务{s}", "信息技术{s}"), legal="2",
    ),
    OrganTemplate(
        27, ("{p}党政机关效能建设办公室",) * 3, "效能办", OrganKind.PARTY, "主任",
        ("综合{s}", "电子监察{s}", "效能投诉中心", "绩效考评{s}"), parent_key=20,
    ),
)
TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}
TOWNSHIP_KEY = 30
TOWNSHIP_UNITS = ("党政综合办公室", "党建工作办公室", "经济发展办公室", "公共服务办公室", "平安建设办公室", "综合行政执法办公室")
SECTION_WORD = {1: "处", 2: "科", 3: "股", 4: "组"}


def place_name(region: Region, city_name: str = "") -> str:
    """How an organ names its place: districts carry their city (广州市天河区), counties do not."""
    if region.level == 3 and region.name.endswith("区"):
        return city_name + region.name
    return region.name


def township_government_name(county_place: str, county: str, township: str) -> str | None:
    """The government of a township-level unit; None for farms, forests and similar units.

    A few official names repeat their district (端州区城东街道); the place is not said twice.
    """
    if township.startswith(county) and len(township) > len(county) + 2:
        township = township[len(county) :]
    if township.endswith("办事处"):
        return county_place + township
    if township.endswith("街道"):
        return county_place + township + "办事处"
    if township.endswith(("镇", "乡")):
        return county_place + township + "人民政府"
    return None


def organ_credit_code(template_key: int, legal: str, region_code: str) -> str:
    """Deterministic and unique: registrar 1 (机构编制), the region, "XN" + township + key."""
    body = f"{SEED_MARK}{region_code[6:9]}{template_key:02d}0"
    return make_credit_code("1", legal, region_code[:6], body)


def template_of(organ: Organ) -> int:
    return int(organ.credit_code[13:15])


# --- organs ---------------------------------------------------------------------------------


@dataclass
class OrganSpec:
    credit_code: str
    name: str
    short_name: str
    kind: str
    region: Region
    parent_code: str | None


def _places(scale: str) -> list[Region]:
    """Regions that get the template organs at this scale."""
    regions = Region.objects.filter(level__lte=3, prefix__under="44")
    if not scale_at_least(scale, "large"):
        regions = regions.filter(level__lte=2) | regions.filter(level=3, prefix__under=GUANGZHOU)
    return list(regions.order_by("level", "code"))


def organ_specs(scale: str) -> list[OrganSpec]:
    """Every organ the seed wants at this scale, parents before children."""
    places = _places(scale)
    cities = dict(Region.objects.filter(level=2, prefix__under="44").values_list("prefix", "name"))
    specs: list[OrganSpec] = []
    for region in places:
        place = place_name(region, cities.get(region.code[:4], ""))
        for t in TEMPLATES:
            code = organ_credit_code(t.key, t.legal, region.code)
            if t.parent_key:
                parent = organ_credit_code(t.parent_key, TEMPLATE_BY_KEY[t.parent_key].legal, region.code)
            elif region.level > 1:
                up = region.code[: 2 if region.level == 2 else 4].ljust(12, "0")
                parent = organ_credit_code(t.key, t.legal, up)
            else:
                parent = None
            specs.append(OrganSpec(code, t.name_at(region.level, place), t.short, t.kind, region, parent))
    townships = Region.objects.filter(level=4, prefix__under="44").select_related("parent")
    if not scale_at_least(scale, "province"):
        townships = townships.filter(reduce(or_, (Q(prefix__under=c) for c in FEATURED_COUNTIES)))
    for region in townships.order_by("code"):
        county = region.parent  # the city itself in 东莞 and 中山
        county_place = place_name(county, cities.get(region.code[:4], ""))
        name = township_government_name(county_place, county.name, region.name)
        if name:
            code = organ_credit_code(TOWNSHIP_KEY, "1", region.code)
            specs.append(OrganSpec(code, name, region.name, OrganKind.GRASSROOTS, region, None))
    known = {s.credit_code for s in specs}
    for s in specs:  # a parent outside this scale (never, today) must not dangle
        if s.parent_code not in known:
            s.parent_code = None
    return specs


def seed_organs(scale: str, progress: ProgressFn) -> str:
    """Create the missing organs generation by generation, then set their materialised paths.

    1. An organ already present (same credit code, or same name in the same region) is kept;
       one kept by name answers for its spec's code, so its children still find it.
    2. Each generation is inserted in bulk (ids come back); paths follow from the parents'.
    """
    specs = organ_specs(scale)
    by_code = {c: (pk, path) for c, pk, path in Organ.objects.values_list("credit_code", "id", "path")}
    by_key = {(r, n): c for r, n, c in Organ.objects.values_list("region_id", "name", "credit_code")}
    alias = {s.credit_code: by_key[(s.region.pk, s.name)] for s in specs if (s.region.pk, s.name) in by_key}
    todo = [s for s in specs if s.credit_code not in by_code and s.credit_code not in alias]
    total, created = len(todo), 0

    def parent_of(spec):
        return by_code.get(alias.get(spec.parent_code, spec.parent_code)) if spec.parent_code else None

    while todo:
        ready = [s for s in todo if s.parent_code is None or parent_of(s)]
        if not ready:
            raise RuntimeError("seed: parent organs missing for " + "、".join(s.name for s in todo[:3]))
        for start in range(0, len(ready), 500):
            chunk = ready[start : start + 500]
            objs = [
                Organ(
                    credit_code=s.credit_code,
                    name=s.name,
                    short_name=s.short_name,
                    kind=s.kind,
                    region=s.region,
                    region_code=s.region.prefix,
                    parent_id=parent_of(s)[0] if s.parent_code else None,
                )
                for s in chunk
            ]
            Organ.objects.bulk_create(objs)
            for spec, obj in zip(chunk, objs, strict=True):
                if obj.pk is None:  # a backend that cannot return ids from a bulk insert
                    obj.pk = Organ.objects.get(credit_code=obj.credit_code).pk
                obj.path = f"{parent_of(spec)[1] if spec.parent_code else '/'}{obj.pk}/"
                by_code[obj.credit_code] = (obj.pk, obj.path)
            Organ.objects.bulk_update(objs, ["path"], batch_size=500)
            created += len(objs)
            progress(created, total)
        done = {s.credit_code for s in ready}
        todo = [s for s in todo if s.credit_code not in done]
    return f"{len(specs)} organs ({created} new)"


# --- people: units, staff, posts, targets -------------------------------------------------

SURNAMES = (
    "陈陈陈李李黄黄张张梁梁林林刘刘吴罗何郑杨谢邓冯曾叶周许苏蔡钟卢彭朱潘余郭麦莫赖黎温古廖邱胡江方庞区"
    "严袁骆丘戴汤谭伍龚邹"
)
COMPOUND_SURNAMES = ("欧阳", "司徒", "司马", "上官")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玲文辉志建国峰海燕婷鹏宇浩晓嘉俊颖思欣诗泽锦荣健斌彬智慧琳雪梅立新永德振家宏伦毅晖"

LEADER_RANK = {1: "正厅级", 2: "正处级", 3: "正科级", 4: "正科级"}
DEPUTY_RANK = {1: "副厅级", 2: "副处级", 3: "副科级", 4: "副科级"}
HEAD_RANK = {1: "正处级", 2: "正科级", 3: "股级", 4: "股级"}
MEMBER_RANK = {1: "二级主任科员", 2: "四级主任科员", 3: "一级科员", 4: "一级科员"}

UNIT_DUTIES = {
    "办公室": "文电、会务、机要、督查督办和政务公开",
    "政策法规": "规范性文件合法性审核、行政复议应诉和行政执法监督",
    "行政审批": "行政许可事项的受理、审查和决定，按承诺时限办结并送达",
    "人事": "机构编制、干部人事、教育培训和岗位责任制考核",
    "财务": "预算编制执行、财务管理、收费管理和内部审计",
    "效能投诉中心": "受理、转办和督办效能投诉，按时答复投诉人并回访",
    "电子监察": "对行政审批和公共服务事项实施电子监察，处置预警和黄牌、红牌",
    "绩效考评": "组织绩效考评和群众评议，汇总、公布考评结果",
    "立案庭": "诉讼立案、诉讼服务和信访接待",
    "执行局": "生效法律文书的执行和执行监督",
    "信访室": "受理信访举报，办理群众来信来访",
    "控告申诉": "受理控告、申诉和国家赔偿案件",
}

# (indicator, comparator, target value, measure)
APPROVAL_TARGETS = (
    ("办件按时办结率", ">=", 100, "%"),
    ("承诺时限压缩比例", ">=", 50, "%"),
    ("办事群众满意率", ">=", 98, "%"),
    ("平均办理时间", "<=", 5, "工作日"),
)
OFFICE_TARGETS = (("公文按时办结率", ">=", 98, "%"), ("督办事项按期完成率", ">=", 95, "%"), ("政务信息按时公开率", "=", 100, "%"))
LEGAL_TARGETS = (("规范性文件合法性审核率", "=", 100, "%"), ("行政复议纠错率", "<=", 5, "%"), ("案件审结按期率", ">=", 95, "%"))
COMPLAINT_TARGETS = (("效能投诉按时办结率", ">=", 95, "%"), ("投诉人满意率", ">=", 90, "%"), ("投诉受理时限", "<=", 5, "工作日"))
SUPERVISION_TARGETS = (("预警事项按时处置率", ">=", 95, "%"), ("红黄牌整改完成率", "=", 100, "%"), ("督办件按期办结率", ">=", 95, "%"))
LEADER_TARGETS = (("年度工作目标完成率", ">=", 95, "%"), ("部门效能考评得分", ">=", 90, "分"), ("重大事项按时决策率", "=", 100, "%"))
GENERAL_TARGETS = (
    ("工作任务按期完成率", ">=", 95, "%"),
    ("群众评价满意率", ">=", 95, "%"),
    ("办件差错率", "<=", 1, "%"),
    ("年度培训学时", ">=", 40, "学时"),
)
TARGET_POOLS = (
    (("审批", "登记", "立案", "交易服务", "政务服务"), APPROVAL_TARGETS),
    (("办公室", "综合", "秘书"), OFFICE_TARGETS),
    (("法规", "法制", "审理", "审判", "检察部", "执法"), LEGAL_TARGETS),
    (("投诉", "信访", "控告"), COMPLAINT_TARGETS),
    (("监察", "监督", "考评"), SUPERVISION_TARGETS),
)


def _person_name(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.02 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(1 if rng.random() < 0.3 else 2))


def _duty(unit: str) -> str:
    for word, text in UNIT_DUTIES.items():
        if word in unit:
            return text
    return f"{unit}职责范围内的业务工作"


def _targets(rng: random.Random, unit: str | None) -> list[tuple]:
    pool = LEADER_TARGETS if unit is None else GENERAL_TARGETS
    for words, candidates in TARGET_POOLS:
        if unit and any(w in unit for w in words):
            pool = candidates
            break
    return rng.sample(pool, rng.randint(1, 3))


def _unit_names(organ: Organ) -> list[str]:
    key = template_of(organ)
    if key == TOWNSHIP_KEY:
        return list(TOWNSHIP_UNITS)
    template = TEMPLATE_BY_KEY[key]
    word = SECTION_WORD[organ.region.level]
    units = template.units if template.kind != OrganKind.GOVERNMENT else (*COMMON_UNITS, *template.units)
    return list(dict.fromkeys(u.format(s=word) for u in units))


def _leader_title(organ: Organ) -> str:
    key = template_of(organ)
    if key == TOWNSHIP_KEY:
        return "主任" if organ.name.endswith("办事处") else ("镇长" if organ.short_name.endswith("镇") else "乡长")
    return TEMPLATE_BY_KEY[key].leader


def _populate(organs: list[Organ]) -> int:
    """Units, staff, posts, targets and post holders for a batch of organs; returns staff made.

    1. Units first (posts and staff point at them), in bulk, ids returned.
    2. A fixed list of people per organ: the leader, a deputy, a head and a member per unit.
    3. One post per person, held by that person, with 1-3 quantified targets.
    Names come from a generator seeded with the organ's credit code: deterministic per organ.
    """
    units = [Unit(organ=o, name=name) for o in organs for name in _unit_names(o)]
    Unit.objects.bulk_create(units)
    units_of: dict[int, list[Unit]] = {}
    for u in units:
        units_of.setdefault(u.organ_id, []).append(u)

    people: list[tuple[Staff, Post, list[tuple]]] = []
    for organ in organs:
        rng = random.Random(organ.credit_code)
        level = organ.region.level
        leader = _leader_title(organ)
        own = units_of[organ.pk]
        roster = [
            (None, leader, LEADER_RANK[level],
             f"主持{organ.name}全面工作，对本单位效能建设负总责；组织落实年度工作目标、部门责任清单和岗位责任制。"),
            (None, f"副{leader}", DEPUTY_RANK[level],
             f"协助{leader}工作，分管{'、'.join(u.name for u in own[:2])}，落实分管领域效能建设和限时办结责任。"),
        ]
        for unit in own:
            duty = _duty(unit.name)
            roster.append((unit, f"{unit.name}负责人", HEAD_RANK[level],
                           f"负责{unit.name}全面工作：{duty}；组织落实本部门岗位责任制和量化指标。"))
            roster.append((unit, f"{unit.name}经办岗", MEMBER_RANK[level],
                           f"承办{unit.name}具体业务：{duty}；按时限办理交办事项，如实录入办件信息。"))
        for n, (unit, title, rank, duties) in enumerate(roster, start=1):
            staff = Staff(
                organ=organ, unit=unit, name=_person_name(rng), rank=rank,
                staff_no=f"{organ.credit_code[2:16]}{n:03d}",
            )
            post = Post(organ=organ, unit=unit, title=title, duties=duties)
            people.append((staff, post, _targets(rng, unit.name if unit else None)))

    Staff.objects.bulk_create([p[0] for p in people])
    Post.objects.bulk_create([p[1] for p in people])
    PostTarget.objects.bulk_create(
        [
            PostTarget(post=post, indicator=ind, comparator=cmp, value=Decimal(val), measure=measure)
            for _staff, post, targets in people
            for ind, cmp, val, measure in targets
        ]
    )
    Post.holders.through.objects.bulk_create(
        [Post.holders.through(post_id=post.pk, staff_id=staff.pk) for staff, post, _t in people]
    )
    return len(people)


def seed_people(scale: str, progress: ProgressFn) -> str:
    """Staff seeded organs that have no units yet (so a re-run, or a bigger scale, adds only new ones)."""
    pending = list(
        Organ.objects.annotate(mark=Substr("credit_code", 9, 2))
        .filter(mark=SEED_MARK)
        .filter(~Exists(Unit.objects.filter(organ=OuterRef("pk"))))
        .select_related("region")
        .order_by("id")
    )
    made = 0
    for start in range(0, len(pending), 200):
        made += _populate(pending[start : start + 200])
        progress(min(start + 200, len(pending)), len(pending), "organs")
    return f"{len(pending)} organs staffed ({made} staff holding as many posts)"


# --- demo users -------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoUser:
    """One demo login: a role on a region (`region`) or on an organ (`organ` = (region, template))."""

    username: str
    role: str
    region: str | None = None
    organ: tuple[str, int] | None = None
    works_in: tuple[str, int] | None = (PROVINCE_CODE, 27)  # the organ whose staff member this user is (None: no one's)
    unit_hint: str = ""  # which unit to pick the staff member from; "" = the leader
    superuser: bool = False


GD, GZ, SZ, TIANHE = PROVINCE_CODE, "440100000000", "440300000000", "440106000000"
DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", Role.ADMIN, region=GD, works_in=(GD, 19), unit_hint="数据资源", superuser=True),
    DemoUser("gd_supervisor", Role.SUPERVISOR, region=GD, works_in=(GD, 27), unit_hint="电子监察"),
    DemoUser("gz_supervisor", Role.SUPERVISOR, region=GZ, works_in=(GZ, 27), unit_hint="电子监察"),
    DemoUser("sz_supervisor", Role.SUPERVISOR, region=SZ, works_in=(SZ, 27), unit_hint="电子监察"),
    DemoUser("tianhe_supervisor", Role.SUPERVISOR, region=TIANHE, works_in=(TIANHE, 27), unit_hint="电子监察"),
    DemoUser("tianhe_leader", Role.LEADER, organ=(TIANHE, 18), works_in=(TIANHE, 18)),
    DemoUser("tianhe_handler", Role.HANDLER, organ=(TIANHE, 18), works_in=(TIANHE, 18), unit_hint="行政审批"),
    DemoUser("gz_handler", Role.HANDLER, organ=(GZ, 18), works_in=(GZ, 18), unit_hint="行政审批"),
    DemoUser("gz_complaint", Role.COMPLAINT_OFFICER, region=GZ, works_in=(GZ, 27), unit_hint="效能投诉"),
    DemoUser("tianhe_complaint", Role.COMPLAINT_OFFICER, region=TIANHE, works_in=(TIANHE, 27), unit_hint="效能投诉"),
    DemoUser("gd_appraisal", Role.APPRAISAL_OFFICER, region=GD, works_in=(GD, 27), unit_hint="绩效考评"),
    DemoUser("gz_appraisal", Role.APPRAISAL_OFFICER, region=GZ, works_in=(GZ, 27), unit_hint="绩效考评"),
    DemoUser("gd_auditor", Role.AUDITOR, region=GD, works_in=(GD, 27), unit_hint="综合"),
    DemoUser("gz_auditor", Role.AUDITOR, region=GZ, works_in=(GZ, 27), unit_hint="综合"),
    DemoUser("gz_deputy", Role.DEPUTY, region=GZ, works_in=None),
)


def _organ_at(region_code: str, key: int) -> Organ:
    template = TEMPLATE_BY_KEY[key]
    return Organ.objects.get(credit_code=organ_credit_code(key, template.legal, region_code))


def _staff_for(spec: DemoUser) -> Staff | None:
    """A free staff member of the organ the user works in: the leader, or one in the hinted unit."""
    if spec.works_in is None:  # a deputy or CPPCC member watches the government from outside it
        return None
    free = Staff.objects.filter(organ=_organ_at(*spec.works_in), user__isnull=True).order_by("staff_no")
    if not spec.unit_hint:
        return free.filter(unit__isnull=True).first()
    return free.filter(unit__name__contains=spec.unit_hint).first() or free.exclude(unit__isnull=True).first()


def seed_users(scale: str, progress: ProgressFn) -> str:
    """One demo login per role at several levels, each a staff member of a real-looking organ.

    A user that exists already keeps its password: re-running the seed never resets a
    password someone changed on purpose.
    """
    made = 0
    for n, spec in enumerate(DEMO_USERS, start=1):
        user = User.objects.filter(username=spec.username).first()
        if user is None:
            user = User(username=spec.username, is_staff=spec.superuser, is_superuser=spec.superuser)
            validate_password(DEMO_PASSWORD, user)
            user.set_password(DEMO_PASSWORD)
            staff = _staff_for(spec)
            user.display_name = staff.name if staff else spec.username
            user.save()
            if staff:
                staff.user = user
                staff.save(update_fields=["user"])
            made += 1
        region = Region.objects.get(code=spec.region) if spec.region else None
        organ = _organ_at(*spec.organ) if spec.organ else None
        Grant.objects.get_or_create(user=user, role=spec.role, region=region, organ=organ)
        progress(n, len(DEMO_USERS), spec.username)
    return f"{len(DEMO_USERS)} demo users ({made} new)"


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(username, role, scope, password) for every demo user present, for the closing table."""
    rows = []
    users = User.objects.filter(username__in=[d.username for d in DEMO_USERS])
    grants = {
        (g.user.username, g.role): g for g in Grant.objects.filter(user__in=users).select_related("user", "region", "organ")
    }
    for spec in DEMO_USERS:
        grant = grants.get((spec.username, spec.role))
        if grant is None:
            continue
        scope = grant.region.full_name() if grant.region_id else grant.organ.name
        rows.append((spec.username, str(Role(spec.role).label), scope, DEMO_PASSWORD))
    return rows


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def format_table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """A plain-text table whose columns line up in a terminal, Chinese included."""
    table = [list(map(str, headers)), *[list(map(str, r)) for r in rows]]
    widths = [max(_width(r[i]) for r in table) for i in range(len(table[0]))]

    def line(cells):
        return "  ".join(c + " " * (w - _width(c)) for c, w in zip(cells, widths, strict=True)).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(table[0]), rule, *(line(r) for r in table[1:])])


register_seed_step("regions", 10, seed_regions)
register_seed_step("organs", 20, seed_organs)
register_seed_step("people", 30, seed_people)
register_seed_step("users", 40, seed_users)
