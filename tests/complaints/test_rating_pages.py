"""好差评 pages: list, rating page and actions per persona, Excel, statistics, public rating forms."""
import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.approvals import actions as cases
from xiaoneng.audit.models import AuditEntry
from xiaoneng.complaints import ratings as r
from xiaoneng.complaints.identity import Identity
from xiaoneng.complaints.models import Rating, RatingStatus

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 2, 9, 0, tzinfo=CN)
RATER = Identity.of(name="李四海", phone="13900001111")
SECRETS = ("李四海", "13900001111")
CODE = "482913"


def decided_case(matters, no="TH-2026-0100"):
    case, _code = cases.do_submit_case(matter=matters.paid, case_no=no, applicant_name="李四海",
                                       applicant_phone="13900001111", received_at=MON - timedelta(days=20),
                                       verify_code=CODE)
    cases.do_accept_case(case, at=MON - timedelta(days=19))
    return cases.do_decide_case(case, outcome="granted", at=MON - timedelta(days=1))


def window(world, level, scores, organ=None, rater=RATER, at=MON, **kw):
    return r.do_rate_service(kind="offline", organ=organ or world.tianhe_bureau, level=level,
                             scores={"overall": level, **scores}, window="3号窗口", rater=rater, rated_at=at, **kw)


class Ratings:
    pass


@pytest.fixture
def rated(world, matters):
    """Tianhe: a good online rating of a case, a good window rating, a named bad one rectified on time,
    an anonymous bad one, a named bad one annulled on appeal. Futian: one 基本满意."""
    x = Ratings()
    x.case = decided_case(matters)
    x.online = r.do_rate_service(kind="online", organ=world.tianhe_bureau, case=x.case, rater=RATER, rated_at=MON,
                                 scores={"overall": 5, "efficiency": 5, "guide": 4, "convenience": 5, "usability": 4})
    x.good = window(world, 4, {"efficiency": 3, "competence": 4, "attitude": 5}, rater=None)
    x.bad = window(world, 1, {"efficiency": 2, "competence": 2, "attitude": 1}, comment="态度差")
    r.do_callback(x.bad, note="已回访", at=MON + timedelta(days=1))
    r.do_report_rectification(x.bad, report="已培训", at=MON + timedelta(days=3))
    x.anonymous = window(world, 2, {"efficiency": 2, "competence": 3, "attitude": 2}, rater=None)
    x.annulled = window(world, 1, {"efficiency": 1, "competence": 1, "attitude": 1})
    r.do_appeal_rating(x.annulled, reasons="恶意评价", at=MON + timedelta(days=1))
    r.do_decide_rating_appeal(x.annulled, upheld=True, reasons="属实", actor=world.county_supervisor,
                              at=MON + timedelta(days=2))
    x.futian = window(world, 3, {"efficiency": 3, "competence": 3, "attitude": 3}, organ=world.futian_bureau)
    x.open_bad = window(world, 2, {"efficiency": 2, "competence": 2, "attitude": 2}, at=MON + timedelta(days=2))
    return x


def html(response):
    return response.content.decode()


def workbook(response):
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- the list -------------------------------------------------------------------------------
def listed(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-rating="(\d+)"', html(response))}


def test_a_county_handler_lists_only_the_ratings_of_his_organ(rated, world, login):
    page = login(world.county_handler).get(reverse("ratings:list"))
    assert page.status_code == 200
    assert rated.futian.pk not in listed(page) and rated.online.pk in listed(page) and rated.bad.pk in listed(page)


def test_an_outsider_lists_nothing_and_opens_no_rating(rated, world, login):
    client = login(world.outsider)
    assert listed(client.get(reverse("ratings:list"))) == set()
    assert client.get(reverse("ratings:detail", args=[rated.bad.pk])).status_code == 404
    assert len(workbook(client.get(reverse("ratings:list") + "?export=xlsx"))) == 1  # the header only


def test_a_rating_outside_the_scope_is_a_404(rated, world, login):
    assert login(world.shenzhen_handler).get(reverse("ratings:detail", args=[rated.bad.pk])).status_code == 404
    assert login(world.province_supervisor).get(reverse("ratings:detail", args=[rated.futian.pk])).status_code == 200


def test_the_list_filters_bad_reviews_levels_organs_and_overdue_rectifications(rated, world, login):
    client = login(world.city_supervisor)
    url = reverse("ratings:list")
    assert listed(client.get(url + "?bad=on")) == {rated.bad.pk, rated.anonymous.pk, rated.annulled.pk,
                                                   rated.open_bad.pk}
    assert listed(client.get(url + "?level=4")) == {rated.good.pk}
    assert listed(client.get(url + "?kind=online")) == {rated.online.pk}
    assert listed(client.get(url + f"?status={RatingStatus.ANNULLED}")) == {rated.annulled.pk}
    assert listed(client.get(url + "?overdue=on")) == {rated.open_bad.pk}  # now is long after 2026-11
    assert listed(client.get(url + "?date_from=2026-11-04")) == {rated.open_bad.pk}
    # An organ outside the supervisor's city is an invalid choice: nothing rather than everything.
    assert listed(client.get(url + f"?organ={world.futian_bureau.pk}")) == set()
    assert listed(client.get(url + "?level=9")) == set()
    assert client.get(url + "?sort=-level&page=x").status_code == 200


def test_the_list_answers_htmx_with_the_results_only_in_a_fixed_number_of_queries(
        rated, world, login, django_assert_max_num_queries):
    client = login(world.province_supervisor)
    with django_assert_max_num_queries(12):
        fragment = client.get(reverse("ratings:list") + "?sort=-level", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in html(fragment) and len(listed(fragment)) == 7


def test_no_page_or_excel_shows_the_raters_name_or_phone(rated, world, login):
    for persona in (world.county_handler, world.county_leader, world.county_supervisor, world.city_supervisor,
                    world.auditor, world.appraisal_officer, world.complaint_officer):
        client = login(persona)
        pages = [client.get(reverse("ratings:list")), client.get(reverse("ratings:detail", args=[rated.bad.pk])),
                 client.get(reverse("ratings:stats"))]
        for page in pages:
            assert page.status_code == 200 and not any(s in html(page) for s in SECRETS), persona
        rows = workbook(client.get(reverse("ratings:list") + "?export=xlsx"))
        flat = " ".join(str(c) for row in rows for c in row)
        assert "李**" in flat and "139****1111" in flat and not any(s in flat for s in SECRETS), persona


def test_the_excel_export_has_every_filtered_row(rated, world, login):
    rows = workbook(login(world.city_supervisor).get(reverse("ratings:list") + "?export=xlsx&bad=on"))
    assert rows[0][0] == "编号" and len(rows) == 1 + 4
    assert {row[0] for row in rows[1:]} == {rated.bad.pk, rated.anonymous.pk, rated.annulled.pk, rated.open_bad.pk}
    assert "匿名" in [row[10] for row in rows[1:]]


# --- the rating page and its actions ---------------------------------------------------------
def test_the_rating_page_shows_scores_clock_and_timeline(rated, world, login):
    page = html(login(world.county_supervisor).get(reverse("ratings:detail", args=[rated.bad.pk])))
    assert "服务态度" in page and "非常不满意" in page and 'data-kind="rating.rectification"' in page
    assert "已回访" in page and "已培训" in page and "工作日" in page


def test_an_overdue_rectification_is_flagged_on_the_rating_page(rated, world, login):
    client = login(world.county_supervisor)
    overdue = html(client.get(reverse("ratings:detail", args=[rated.open_bad.pk])))  # due in 2026-11, now is later
    rectified = html(client.get(reverse("ratings:detail", args=[rated.bad.pk])))
    assert "整改超期" in overdue and "整改超期" not in rectified


def test_the_organ_staff_reveal_the_phone_for_the_call_back_and_it_is_audited(rated, world, login):
    client = login(world.county_handler)
    page = client.get(reverse("ratings:detail", args=[rated.open_bad.pk]))
    assert 'data-testid="reveal-form"' in html(page)
    revealed = client.post(reverse("ratings:reveal", args=[rated.open_bad.pk]))
    assert revealed.status_code == 200 and "13900001111" in html(revealed)
    entry = AuditEntry.objects.get(action="identity.reveal")
    assert entry.changes["purpose"] == "差评回访" and entry.actor == world.county_handler


@pytest.mark.parametrize("persona", ["county_leader", "auditor", "appraisal_officer"])
def test_readers_may_not_reveal_the_rater(rated, world, login, persona):
    client = login(getattr(world, persona))
    assert 'data-testid="reveal-form"' not in html(client.get(reverse("ratings:detail", args=[rated.open_bad.pk])))
    assert client.post(reverse("ratings:reveal", args=[rated.open_bad.pk])).status_code == 403
    assert not AuditEntry.objects.filter(action="identity.reveal").exists()


def test_an_anonymous_rating_has_nothing_to_reveal(rated, world, login):
    assert login(world.county_handler).post(reverse("ratings:reveal", args=[rated.anonymous.pk])).status_code == 403


def act(client, rating, action, **data):
    rev = str(rating.steps.count())
    return client.post(reverse("ratings:act", args=[rating.pk, action]), {"rev": rev, **data})


def test_the_organ_staff_call_back_report_and_tell_through_the_page(rated, world, login):
    client = login(world.county_handler)
    rating = rated.open_bad
    assert act(client, rating, "callback", note="已电话回访").status_code == 302
    assert act(client, rating, "report", report="已整改到位").status_code == 302
    assert act(client, rating, "tell", text="已整改。").status_code == 302
    rating.refresh_from_db()
    assert rating.status == RatingStatus.RECTIFIED and rating.rater_told_at is not None


def test_a_replayed_action_is_refused_and_changes_nothing(rated, world, login):
    client = login(world.county_handler)
    rating = rated.open_bad
    rev = str(rating.steps.count())
    url = reverse("ratings:act", args=[rating.pk, "callback"])
    assert client.post(url, {"rev": rev, "note": "回访一"}).status_code == 302
    again = client.post(url, {"rev": rev, "note": "回访一"})
    assert again.status_code == 200 and 'data-testid="action-error"' in html(again)
    assert rating.steps.filter(kind="callback").count() == 1


def test_an_empty_action_form_answers_with_the_field_error(rated, world, login):
    page = act(login(world.county_handler), rated.open_bad, "callback", note="  ")
    assert page.status_code == 200 and "回访情况" in html(page) and 'data-testid="field-error"' in html(page)
    rated.open_bad.refresh_from_db()
    assert rated.open_bad.status == RatingStatus.CALLBACK


@pytest.mark.parametrize("persona", ["county_leader", "county_supervisor", "auditor"])
def test_readers_and_supervisors_may_not_take_the_organs_actions(rated, world, login, persona):
    assert act(login(getattr(world, persona)), rated.open_bad, "callback", note="x").status_code == 403
    assert act(login(world.shenzhen_handler), rated.open_bad, "callback", note="x").status_code == 404


def test_the_organ_appeals_and_only_a_supervisor_decides(rated, world, login, settings):
    rating = rated.open_bad
    r.do_appeal_rating(rating, reasons="误评", at=MON + timedelta(days=3))  # the page offers it only in the window
    assert act(login(world.county_handler), rating, "decide", upheld="yes", reasons="x").status_code == 403
    supervisor = login(world.county_supervisor)
    assert 'id="action-decide"' in html(supervisor.get(reverse("ratings:detail", args=[rating.pk])))
    assert act(supervisor, rating, "decide", upheld="no", reasons="不成立").status_code == 302
    rating.refresh_from_db()
    assert rating.status == RatingStatus.CALLBACK


def test_an_unknown_action_is_a_404_and_a_get_goes_back_to_the_page(rated, world, login):
    client = login(world.county_handler)
    assert act(client, rated.open_bad, "delete").status_code == 404
    assert client.get(reverse("ratings:act", args=[rated.open_bad.pk, "callback"])).status_code == 302


# --- statistics ------------------------------------------------------------------------------
def test_the_statistics_match_the_hand_computed_figures(rated, world, login):
    page = login(world.county_supervisor).get(reverse("ratings:stats") + "?kind=offline")
    ctx = page.context
    [tianhe] = ctx["organs"]  # the county supervisor sees 天河 only; the annulled rating is left out
    # offline, not annulled: 满意(4), 非常不满意(1, rectified on time), 不满意(2, anonymous), 不满意(2, open)
    assert tianhe.total == 4 and tianhe.levels == [0, 1, 0, 2, 1]
    assert tianhe.shares == [0.0, 25.0, 0.0, 50.0, 25.0]
    assert tianhe.good_rate == 25.0 and tianhe.bad_rate == 75.0
    keys = list(ctx["keys"])
    averages = dict(zip(keys, tianhe.averages, strict=True))
    assert averages == {"overall": 2.25, "efficiency": 2.25, "competence": 2.75, "attitude": 2.5}
    assert (tianhe.to_rectify, tianhe.on_time, tianhe.on_time_rate) == (2, 1, 50.0)
    assert "25.0%" in html(page) and 'data-chart="good"' in html(page) and 'id="chart-good"' in html(page)


def test_all_kinds_by_matter_and_the_province_total(rated, world, login):
    ctx = login(world.province_supervisor).get(reverse("ratings:stats")).context
    assert ctx["total"].total == 6 and ctx["total"].good_rate == round(100 * 2 / 6, 1)
    assert [row.label for row in ctx["organs"]] == ["广州市天河区市场监督管理局", "深圳市福田区市场监督管理局"]
    by_matter = {row.label: row.total for row in ctx["matters"]}
    assert by_matter == {"特种设备使用登记": 1, "未关联事项（窗口评价）": 5}
    assert ctx["total"].averages[list(ctx["keys"]).index("guide")] == 4.0


def test_the_date_range_narrows_the_statistics_and_a_bad_range_shows_nothing(rated, world, login):
    client = login(world.province_supervisor)
    assert client.get(reverse("ratings:stats") + "?date_from=2026-11-04").context["total"].total == 1
    bad = client.get(reverse("ratings:stats") + "?date_from=2026-11-05&date_to=2026-11-01")
    assert bad.status_code == 200 and bad.context["total"].total == 0 and "结束日期早于开始日期" in html(bad)


def test_each_statistics_table_exports_to_excel_and_outsiders_get_zeros(rated, world, login):
    rows = workbook(login(world.city_supervisor).get(reverse("ratings:stats") + "?export=organ"))
    assert rows[0][0] == "被评价机关" and rows[1][0] == "广州市天河区市场监督管理局" and rows[-1][0] == "合计"
    matter_rows = workbook(login(world.city_supervisor).get(reverse("ratings:stats") + "?export=matter"))
    assert matter_rows[0][0] == "事项" and len(matter_rows) == 1 + 2 + 1
    ctx = login(world.outsider).get(reverse("ratings:stats")).context
    assert ctx["organs"] == [] and ctx["total"].total == 0


def test_the_statistics_use_group_by_queries_not_one_per_organ(rated, world, login, django_assert_max_num_queries):
    client = login(world.province_supervisor)
    with django_assert_max_num_queries(12):
        client.get(reverse("ratings:stats"))


# --- public rating ---------------------------------------------------------------------------
def public_rate(client, case_no, code, address="10.1.1.1", **extra):
    data = {"kind": "online", "case_no": case_no, "code": code, "level": "2", "score_efficiency": "2",
            "score_guide": "3", "score_convenience": "2", "score_usability": "3", "comment": "等太久",
            "name": "王五", "phone": "13700002222", **extra}
    return client.post(reverse("ratings:public-case"), data, REMOTE_ADDR=address)


def test_a_finished_case_is_rated_with_its_number_and_code_without_login(client, world, matters):
    decided_case(matters)
    page = client.get(reverse("ratings:public-case") + "?kind=offline")
    assert page.status_code == 200 and "服务态度" in html(page)
    response = public_rate(client, "TH-2026-0100", CODE)
    assert response.status_code == 302 and response["Location"] == reverse("ratings:public-thanks")
    rating = Rating.objects.get()
    assert rating.level == 2 and rating.status == RatingStatus.CALLBACK and rating.channel == "web"
    assert rating.scores == {"overall": 2, "efficiency": 2, "guide": 3, "convenience": 2, "usability": 3}
    again = public_rate(client, "TH-2026-0100", CODE)
    assert again.status_code == 200 and "只能评价一次" in html(again) and Rating.objects.count() == 1


def test_a_wrong_code_and_an_unknown_number_get_the_same_answer_and_are_throttled(client, world, matters, settings):
    decided_case(matters)
    settings.XIAONENG_RULES = {"public_lookup_max_failures": 2}
    wrong = public_rate(client, "TH-2026-0100", "000000")
    unknown = public_rate(client, "NO-SUCH-CASE", CODE)
    assert "办件编号或查询码不正确" in html(wrong) and "办件编号或查询码不正确" in html(unknown)
    assert public_rate(client, "TH-2026-0100", CODE).status_code == 429  # even with the right code now
    assert public_rate(client, "TH-2026-0100", CODE, address="10.9.9.9").status_code == 302
    assert Rating.objects.count() == 1


def test_a_case_still_in_handling_cannot_be_rated_publicly(client, world, matters):
    cases.do_submit_case(matter=matters.paid, case_no="TH-OPEN", applicant_name="王五", verify_code=CODE,
                         received_at=MON)
    page = public_rate(client, "TH-OPEN", CODE)
    assert page.status_code == 200 and "办结后方可评价" in html(page) and not Rating.objects.exists()


@pytest.mark.parametrize("extra,message", [
    ({"level": "9"}, "总体评价"), ({"level": ""}, "总体评价"), ({"score_guide": "x"}, "办事指南准确性"),
    ({"phone": "12345"}, "电话号码格式不正确"), ({"phone": "", "name": "王五"}, "联系电话"),
    ({"comment": "很" * 2001}, "评价内容"),
])
def test_bad_public_input_is_answered_on_its_field(client, world, matters, extra, message):
    decided_case(matters)
    page = public_rate(client, "TH-2026-0100", CODE, **extra)
    assert page.status_code == 200 and message in html(page) and not Rating.objects.exists()


def test_a_window_visit_is_rated_from_the_qr_code_and_floods_are_refused(client, world, settings):
    settings.XIAONENG_RULES = {"window_rating_per_address_hour": 4}
    url = reverse("ratings:public-window", args=[world.tianhe_bureau.pk, "3号窗口"])
    page = client.get(url)
    assert page.status_code == 200 and "广州市天河区市场监督管理局" in html(page) and "服务态度" in html(page)
    data = {"level": "5", "score_efficiency": "5", "score_competence": "4", "score_attitude": "5"}
    for _i in range(4):
        assert client.post(url, data, REMOTE_ADDR="10.2.2.2").status_code == 302
    assert client.post(url, data, REMOTE_ADDR="10.2.2.2").status_code == 429
    assert Rating.objects.filter(window="3号窗口", kind="offline", named=False).count() == 4
    assert client.get(reverse("ratings:public-window", args=[999999, "3号窗口"])).status_code == 404
    assert client.get(reverse("ratings:public-window", args=[world.tianhe_bureau.pk, "窗" * 61])).status_code == 404
