"""The persons concerned, and their organ's leaders, are told of the notice, decision, service and appeal outcomes."""
import pytest

from tests.accountability.conftest import at
from tests.conftest import make_user
from xiaoneng.accountability import actions
from xiaoneng.accountability.models import Responsibility
from xiaoneng.inbox.models import Notification
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run an action and what it left for after its commit, as a real commit would."""
    def _run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)
    return _run


@pytest.fixture
def zhang_user(acct):
    user = make_user("zhangsan")
    acct.zhang.user = user
    acct.zhang.save(update_fields=["user"])
    return user


def notes(user):
    return list(Notification.objects.filter(recipient=user, kind="acct").order_by("id"))


def decided_through(acct, run, measure="major_demerit"):
    case = run(acct.register)
    zhang = run(actions.do_add_party, case, staff=acct.zhang, responsibility=Responsibility.DIRECT)
    run(actions.do_record_findings, case, findings="经查属实", at=at("2026-03-02T10:00"))
    run(actions.do_notify_party, zhang, measure=measure, at=at("2026-03-03T10:00"))
    run(actions.do_record_statement, zhang, waived=True, at=at("2026-03-04T10:00"))
    run(actions.do_review_tolerance, zhang, situations=[], outcome="none", at=at("2026-03-05T10:00"))
    run(actions.do_decide_case, case, decider="王局长", decision_number="天效问〔2026〕7号",
        measures={zhang.pk: ([measure], None)}, at=at("2026-03-06T10:00"))
    return case, zhang


def test_the_notice_tells_the_person_and_their_organs_leader_and_nobody_else(acct, world, run, zhang_user):
    decided_through(acct, run)
    mine = notes(zhang_user)
    assert [n.title for n in mine] == ["问责告知：暗访发现窗口推诿", "问责决定：天效问〔2026〕7号"]
    assert "拟对您给予“记大过”" in mine[0].body and "陈述和申辩" in mine[0].body and "天河区党政机关效能建设办公室" in mine[0].body
    assert "期间 2026-03-06 至 2027-09-06" in mine[1].body and mine[1].link == ""
    leader = notes(world.county_leader)
    assert len(leader) == 2 and "本机关工作人员 张三 被告知拟给予“记大过”" in leader[0].body
    for other in (world.county_handler, world.county_supervisor, world.shenzhen_handler, world.outsider):
        assert notes(other) == []


def test_service_and_an_upheld_review_are_told_and_a_revocation_has_its_own_words(acct, world, run, zhang_user):
    case, zhang = decided_through(acct, run)
    run(actions.do_serve_case, case, at=at("2026-03-07T10:00"))
    assert "已送达" in notes(zhang_user)[-1].title and "申请复核" in notes(zhang_user)[-1].body
    review = run(actions.do_lodge_appeal, zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T10:00"))
    run(actions.do_decide_appeal, review, outcome="upheld", reasons="事实清楚", at=at("2026-03-20T10:00"))
    assert notes(zhang_user)[-1].title == "复核结果：维持"
    appeal = run(actions.do_lodge_appeal, zhang, kind="appeal", grounds="仍不服", received_at=at("2026-03-25T10:00"))
    run(actions.do_decide_appeal, appeal, outcome="revoked", reasons="证据不足", at=at("2026-04-10T10:00"))
    last = notes(zhang_user)[-1]
    assert last.title.startswith("问责决定已撤销") and "2026-04-10 起不再执行" in last.body
    assert [n.title for n in notes(world.county_leader)][-1].startswith("问责决定已撤销")
    assert len(notes(zhang_user)) == 5  # notice, decision, service, review, revocation


def test_a_person_without_an_account_is_not_told_but_their_leader_is(acct, world, run):
    decided_through(acct, run)
    assert not Notification.objects.filter(kind="acct").exclude(recipient=world.county_leader).exists()
    assert len(notes(world.county_leader)) == 2


def test_a_person_who_leads_their_own_organ_is_told_once_in_their_own_words(acct, world, run):
    acct.li.user = make_user("lisi", Role.LEADER, organ=world.tianhe_bureau)
    acct.li.save(update_fields=["user"])
    case = run(acct.register)
    li = run(actions.do_add_party, case, staff=acct.li, responsibility=Responsibility.MAIN_LEADER)
    run(actions.do_record_findings, case, findings="经查属实")
    run(actions.do_notify_party, li, measure="warning")
    (note,) = notes(acct.li.user)
    assert "拟对您给予“警告”" in note.body
    assert "李四" in notes(world.county_leader)[0].body


def test_an_event_replayed_notifies_nobody_twice(acct, world, run, zhang_user):
    from xiaoneng.accountability import notices
    from xiaoneng.accountability.models import Party

    decided_through(acct, run)
    before = Notification.objects.count()
    party = Party.objects.select_related("case__deciding_organ", "staff__user").get(staff=acct.zhang)
    run(notices.notified, party)
    run(notices.decided, party.case, [party])
    assert Notification.objects.count() == before


def test_an_organ_held_accountable_tells_its_leaders(acct, world, run):
    case = run(acct.register)
    organ_party = run(actions.do_add_party, case, organ=world.tianhe_bureau, responsibility=Responsibility.ORGAN)
    run(actions.do_record_findings, case, findings="经查属实")
    run(actions.do_notify_party, organ_party, measure="circulate")
    (note,) = notes(world.county_leader)
    assert "本机关（广州市天河区市场监督管理局） 被告知拟给予“通报”" in note.body
