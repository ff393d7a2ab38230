"""A case in the 天河 market bureau, decided by the 天河 efficiency office, made through actions."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import make_organ
from xiaoneng.accountability import actions
from xiaoneng.accountability.models import Responsibility, Source, Tolerance
from xiaoneng.orgs.models import OrganKind, Staff

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


class Desk:
    pass


@pytest.fixture
def acct(world):
    d = Desk()
    d.world = world
    d.office = make_organ("广州市天河区党政机关效能建设办公室", world.tianhe, kind=OrganKind.PARTY)
    d.zhang = Staff.objects.create(organ=world.tianhe_bureau, name="张三", rank="一级科员")
    d.li = Staff.objects.create(organ=world.tianhe_bureau, name="李四", rank="副局长")

    def register(when="2026-03-02T10:00"):
        proposal = actions.do_propose_accountability(
            source=Source.MEDIA, organ=world.tianhe_bureau, title="暗访发现窗口推诿", reason="暗访视频显示窗口人员推诿群众",
            documents=[("暗访视频截图", "2026-02-27 窗口 3 号")], at=at(when))
        return actions.do_register_case(proposal, deciding_organ=d.office, at=at(when))

    def heard(when="2026-03-02T10:00", people=None, measure="warning", months=None, tolerance=Tolerance.NONE):
        """A case whose persons were notified of `measure`, heard, and reviewed (no tolerance)."""
        case = register(when)
        parties = [actions.do_add_party(case, staff=s, responsibility=Responsibility.DIRECT)
                   for s in (people or [d.zhang])]
        actions.do_record_findings(case, findings="经查属实", at=at(when))
        for p in parties:
            actions.do_notify_party(p, measure=measure, months=months, at=at(when))
            actions.do_record_statement(p, statement="本人对事实无异议", at=at(when))
            actions.do_review_tolerance(p, situations=[], outcome=tolerance, at=at(when))
        case.refresh_from_db()
        return case, parties

    def decided(when="2026-03-02T10:00", measure="warning", months=None, number="天效问〔2026〕1号", **kw):
        case, parties = heard(when, measure=measure, months=months, **kw)
        actions.do_decide_case(case, decider="王局长", decision_number=number,
                               measures={p.pk: ([measure], months) for p in parties}, at=at(when))
        case.refresh_from_db()
        return case, [type(p).objects.get(pk=p.pk) for p in parties]

    d.register, d.heard, d.decided = register, heard, decided
    return d
