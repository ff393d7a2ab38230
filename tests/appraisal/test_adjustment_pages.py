"""Pages of 加减分 and of the quarterly interim results: the office enters, a second officer approves,
the result page shows the items; the board's quarter selector; outsiders see nothing."""
import pytest
from django.test import Client
from django.urls import reverse

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import Adjustment, InterimResult, Result
from xiaoneng.orgs.models import Role

from .conftest import at


@pytest.fixture
def second(land):
    from tests.conftest import make_user

    return make_user("second_officer", Role.APPRAISAL_OFFICER, region=land.w.gz)


def officer_client(user):
    c = Client()
    c.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return c


ENTRY = {"op": "enter", "points": "2", "occurred_on": "2026-06-01", "reason": "获省级创新案例",
         "evidence": "省政务服务办通报（粤政务〔2026〕8号）"}


def test_an_officer_enters_an_item_and_only_a_second_officer_may_approve_it(land, second):
    url = reverse("appraisal:adjustments", args=[land.period.pk])
    first = officer_client(land.w.appraisal_officer)
    assert first.post(url, {**ENTRY, "organ": land.w.tianhe_bureau.pk}).status_code == 302
    item = Adjustment.objects.get()
    assert item.entered_by == land.w.appraisal_officer and item.status == "pending"
    page = first.post(url, {"op": "decide", "item": item.pk, "approve": "yes"}, follow=True).content.decode()
    assert "须由录入人以外的另一名考评员审核" in page
    assert Adjustment.objects.get().status == "pending"
    officer_client(second).post(url, {"op": "decide", "item": item.pk, "approve": "yes", "note": "属实"})
    assert Adjustment.objects.get().status == "approved"
    listing = first.get(url).content.decode()
    assert "获省级创新案例" in listing and "second_officer" in listing
    export = first.get(url, {"export": "xlsx"})
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_a_bad_entry_answers_with_the_field_and_the_reason(land):
    url = reverse("appraisal:adjustments", args=[land.period.pk])
    response = officer_client(land.w.appraisal_officer).post(url, {**ENTRY, "organ": land.w.tianhe_bureau.pk,
                                                                   "points": "9"})
    assert response.status_code == 400
    assert "加分超出上限" in response.content.decode()
    assert not Adjustment.objects.exists()


def test_the_result_page_shows_the_approved_items_added_after_the_weighted_sum(land, second):
    item = actions.do_enter_adjustment(land.period, organ=land.w.tianhe_bureau, points="-3",
                                       occurred_on=__import__("datetime").date(2026, 5, 1), reason="被通报批评",
                                       evidence="市政府通报", by=land.w.appraisal_officer, at=at("2026-05-02T10:00"))
    actions.do_decide_adjustment(item, approve=True, note="", by=second, at=at("2026-05-03T10:00"))
    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    th = Result.objects.get(period=land.period, organ=land.w.tianhe_bureau)
    page = officer_client(land.w.appraisal_officer).get(reverse("appraisal:result", args=[th.pk])).content.decode()
    assert "被通报批评" in page and "减分 3.00 分（1 项）；合计 -3.00 分" in page
    assert str(th.weighted_total) in page and th.total == th.weighted_total - 3


def test_the_board_computes_and_shows_a_quarters_interim_results(land):
    client = officer_client(land.w.appraisal_officer)
    board = reverse("appraisal:board", args=[land.period.pk])
    response = client.post(board, {"op": "interim", "quarter": "1"})
    assert response.status_code == 302  # the quarter has ended (the test runs after 2026-03-31)
    assert InterimResult.objects.filter(quarter=1).count() == 2
    page = client.get(board, {"quarter": "1"}).content.decode()
    assert 'data-testid="interim"' in page and "阶段性" in page and "2026-03-31" in page
    assert land.period.__class__.objects.get(pk=land.period.pk).status == "open"


def test_an_outsider_sees_no_adjustments_and_no_interim_results(land, second):
    actions.do_enter_adjustment(land.period, organ=land.w.tianhe_bureau, points="1",
                                occurred_on=__import__("datetime").date(2026, 5, 1), reason="秘密事由甲",
                                evidence="材料", by=second, at=at("2026-05-02T10:00"))
    actions.do_compute_interim(land.period, quarter=1, at=at("2026-04-02T09:00"))
    url = reverse("appraisal:adjustments", args=[land.period.pk])
    for persona in ("outsider", "county_handler", "county_leader", "auditor"):
        client = officer_client(getattr(land.w, persona))
        assert client.get(url).status_code == 404, persona
        assert client.get(url, {"export": "xlsx"}).status_code == 404, persona
        assert client.post(url, {**ENTRY, "organ": land.w.tianhe_bureau.pk}).status_code == 404, persona
        assert client.get(reverse("appraisal:board", args=[land.period.pk]), {"quarter": "1"}).status_code == 404
    assert Adjustment.objects.count() == 1
