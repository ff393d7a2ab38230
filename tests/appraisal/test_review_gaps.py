"""Gaps found by an independent review of issue 13: replays of the period's steps on the board, the
complaint officer as an outsider on every page and export, and the query count of the lists that had none."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from xiaoneng.appraisal import actions
from xiaoneng.appraisal.models import Objection, Period, PeriodStatus
from xiaoneng.audit.models import AuditEntry

from .conftest import TREE, at


# --- a replayed step on the board answers with a message, never a 500, and changes nothing ---------
def test_publishing_twice_on_the_board_answers_with_a_message_and_changes_nothing(published, login):
    client = login(published.w.appraisal_officer)
    url = reverse("appraisal:board", args=[published.period.pk])
    entries = AuditEntry.objects.count()
    response = client.post(url, {"op": "publish"}, follow=True)
    assert response.status_code == 200
    assert "不能变为“已公布”" in response.content.decode()
    assert Period.objects.get(pk=published.period.pk).status == PeriodStatus.PUBLISHED
    assert AuditEntry.objects.count() == entries


@pytest.mark.parametrize("op", ["close", "announce", "compute"])
def test_a_step_replayed_out_of_order_on_the_board_answers_with_a_message(published, login, op):
    client = login(published.w.appraisal_officer)
    response = client.post(reverse("appraisal:board", args=[published.period.pk]), {"op": op}, follow=True)
    assert response.status_code == 200
    assert 'class="alert' in response.content.decode() or "error" in response.content.decode()
    assert Period.objects.get(pk=published.period.pk).status == PeriodStatus.PUBLISHED


def test_announcing_twice_starts_no_second_objection_clock(land, login):
    from xiaoneng.clocks.models import Clock

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    clocks = Clock.objects.filter(kind="appraisal.objection").count()
    response = login(land.w.appraisal_officer).post(reverse("appraisal:board", args=[land.period.pk]),
                                                    {"op": "announce"}, follow=True)
    assert response.status_code == 200 and "不能变为" in response.content.decode()
    assert Clock.objects.filter(kind="appraisal.objection").count() == clocks


def test_an_objection_decided_twice_on_the_board_keeps_the_first_decision(land, login):
    from xiaoneng.appraisal.models import Result

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    yx = Result.objects.get(period=land.period, organ=land.w.yuexiu_bureau)
    objection = actions.do_object(yx, grounds="理由", evidence="材料", at=at("2027-01-08T10:00"))
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:board", args=[land.period.pk])
    client.post(url, {"op": "decide", "objection": objection.pk, "upheld": "no", "reasons": "不成立"})
    response = client.post(url, {"op": "decide", "objection": objection.pk, "upheld": "yes", "reasons": "改判"},
                           follow=True)
    assert "该异议已决定" in response.content.decode()
    objection = Objection.objects.get(pk=objection.pk)
    assert (objection.status, objection.reasons) == ("rejected", "不成立")


# --- the complaint officer of the same region is an outsider to the appraisal ---------------------
def test_the_complaint_officer_gets_nothing_from_pages_api_or_exports(published, login):
    client = login(published.w.complaint_officer)
    p = published.period.pk
    line = published.th.lines.first()
    for url in (reverse("appraisal:scheme", args=[published.scheme.pk]),
                reverse("appraisal:scheme-export", args=[published.scheme.pk]),
                reverse("appraisal:board", args=[p]), reverse("appraisal:result", args=[published.th.pk]),
                reverse("appraisal:line-records", args=[line.pk]), reverse("appraisal:scores"),
                reverse("appraisal:scores") + "?export=xlsx", reverse("appraisal:changes"),
                reverse("appraisal:changes") + "?export=xlsx", reverse("appraisal:adjustments", args=[p]),
                reverse("appraisal:adjustments", args=[p]) + "?export=xlsx", reverse("appraisal:reviews"),
                reverse("appraisal:reviews") + "?export=xlsx", "/surveys/", "/surveys/?export=xlsx"):
        assert client.get(url).status_code == 404, url
    for url in (reverse("appraisal:schemes"), reverse("appraisal:classes")):
        for query in ("", "?export=xlsx"):
            response = client.get(url + query)
            assert response.status_code == 404 or (
                published.scheme.title.encode() not in response.content and published.cls.name.encode()
                not in response.content), url + query
    for api in ("/api/v1/appraisal/results/", f"/api/v1/appraisal/results/{published.th.pk}/",
                f"/api/v1/appraisal/schemes/{published.scheme.pk}/"):
        response = client.get(api)
        assert response.status_code in (403, 404) or published.w.tianhe_bureau.name not in response.content.decode()


# --- the lists that had no query-count assertion ------------------------------------------------
def _count(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_scheme_and_class_lists_cost_the_same_queries_however_many_rows(land, login):
    client = login(land.w.appraisal_officer)
    few = [_count(client, reverse("appraisal:schemes")), _count(client, reverse("appraisal:classes"))]
    for year in (2022, 2023, 2024, 2025):
        cls = actions.do_create_class(name=f"类别{year}", region=land.w.gz, organs=[])
        actions.do_create_scheme(organ_class=cls, year=year, title=f"{year}年方案", rows=[dict(r) for r in TREE])
    more = [_count(client, reverse("appraisal:schemes")), _count(client, reverse("appraisal:classes"))]
    assert more == few
    assert "2022年方案" in client.get(reverse("appraisal:schemes")).content.decode()


def test_the_adjustment_list_costs_the_same_queries_however_many_items(land, login):
    import datetime

    from tests.conftest import make_user
    from xiaoneng.orgs.models import Role

    second = make_user("second_officer", Role.APPRAISAL_OFFICER, region=land.w.gz)
    client = login(land.w.appraisal_officer)
    url = reverse("appraisal:adjustments", args=[land.period.pk])

    def enter(n):
        for i in range(n):
            organ = land.w.tianhe_bureau if i % 2 else land.w.yuexiu_bureau
            actions_adj.do_enter_adjustment(land.period, organ=organ, points="1", occurred_on=datetime.date(2026, 5, 1),
                                            reason=f"事由{i}", evidence="材料", by=second, at=at("2026-05-02T10:00"))

    from xiaoneng.appraisal import actions as actions_adj

    enter(1)
    few = _count(client, url)
    enter(5)
    assert _count(client, url) == few
