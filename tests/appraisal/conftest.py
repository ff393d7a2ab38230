"""An appraisal class of the two 广州 county bureaus (天河, 越秀), its 2026 scheme, and helpers that make
promise clocks through the clock actions."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.appraisal import actions
from xiaoneng.clocks import actions as clocks
from xiaoneng.orgs.models import Grant, Role

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


TREE = [
    {"code": "1", "parent": "", "name": "办件效能", "weight": 60, "source": "", "method": "", "params": {}},
    {"code": "1.1", "parent": "1", "name": "准时办结率", "weight": 70, "source": "on_time", "method": "linear",
     "params": {"worst": 80, "best": 100}},
    {"code": "1.2", "parent": "1", "name": "每百件红黄牌", "weight": 30, "source": "cards", "method": "linear",
     "params": {"worst": 10, "best": 0}},
    {"code": "2", "parent": "", "name": "作风建设", "weight": 40, "source": "", "method": "", "params": {}},
    {"code": "2.1", "parent": "2", "name": "投诉查实", "weight": 50, "source": "complaints", "method": "deduction",
     "params": {"per_event": 5, "floor": 60}},
    {"code": "2.2", "parent": "2", "name": "效能问责", "weight": 25, "source": "accountability", "method": "deduction",
     "params": {"per_event": 10}},
    {"code": "2.3", "parent": "2", "name": "年度目标完成", "weight": 25, "source": "manual", "method": "attainment",
     "params": {"target": 100}},
]


class Land:
    pass


@pytest.fixture
def land(world):
    d = Land()
    d.w = world
    d.cls = actions.do_create_class(name="区县市场监管局", region=world.gz,
                                    organs=[world.tianhe_bureau, world.yuexiu_bureau])
    d.scheme = actions.do_create_scheme(organ_class=d.cls, year=2026, title="2026年区县市场监管局绩效考评方案",
                                        rows=[dict(r) for r in TREE])
    d.period = actions.do_activate_scheme(d.scheme)
    d.yuexiu_leader = make_leader(world, "yuexiu_leader", world.yuexiu_bureau)

    def promise(organ, start, limit, stop=None):
        clock = clocks.do_start_clock(kind="case.promise", start_at=at(start), limit=limit, organ=organ,
                                      label=f"承诺时限 {start}")
        if stop:
            clock = clocks.do_stop_clock(clock, at=at(stop))
        return clock

    d.promise = promise
    return d


def make_leader(world, username, organ):
    from tests.conftest import make_user

    user = make_user(username)
    Grant.objects.create(user=user, role=Role.LEADER, organ=organ)
    return user


# The accountability desk (a case against the 天河 bureau decided through the actions).
from tests.accountability.conftest import acct  # noqa: E402, F401


# --- a published year (2026: 天河 one late case, 48.00 较差; 越秀 90.00 优秀; 越秀's objection rejected) ----------
def publish_year(land, period, year: int, objection: bool = False):
    """Close, compute, announce and publish `period` of `year` through the actions."""
    from xiaoneng.appraisal.models import Result

    actions.do_close_period(period, at=at(f"{year + 1}-01-05T09:00"))
    actions.do_compute_period(period, at=at(f"{year + 1}-01-05T09:30"))
    actions.do_announce_provisional(period, at=at(f"{year + 1}-01-07T10:00"))
    if objection:
        yx = Result.objects.get(period=period, organ=land.w.yuexiu_bureau)
        o = actions.do_object(yx, grounds="越秀的异议理由", evidence="越秀的材料",
                              line=yx.lines.get(indicator__code="1.1"), at=at(f"{year + 1}-01-08T10:00"))
        actions.do_decide_objection(o, upheld=False, reasons="数据来源于办件系统，异议不成立", by="考评办",
                                    at=at(f"{year + 1}-01-15T10:00"))
    return actions.do_publish_results(period, at=at(f"{year + 1}-01-15T11:00"))


@pytest.fixture
def published(land):
    land.promise(land.w.tianhe_bureau, "2026-03-02T09:00", 5, stop="2026-03-20T10:00")
    publish_year(land, land.period, 2026, objection=True)
    from xiaoneng.appraisal.models import Result

    land.th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    land.yx = Result.objects.get(period=land.period, organ=land.w.yuexiu_bureau)
    return land


@pytest.fixture
def two_years(published):
    """2025 as well (no cases: both organs 90.00), published."""
    land = published
    s25 = actions.do_create_scheme(organ_class=land.cls, year=2025, title="2025年区县市场监管局绩效考评方案",
                                   rows=[dict(r) for r in TREE])
    land.period25 = publish_year(land, actions.do_activate_scheme(s25), 2025)
    return land
