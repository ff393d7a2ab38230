"""Results per organ on known data (weighted mean, counts per group, the 95% interval), the Excel, the
screened comments — and who may see them."""
import io
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.conftest import make_user
from xiaoneng.orgs.models import Grant, Role
from xiaoneng.surveys import actions
from xiaoneng.surveys.models import RaterGroup
from xiaoneng.surveys.stats import survey_stats


def _known(poll):
    """天河: 服务对象 (60) levels 5, 4, 4 → 100, 75, 75; 企业 (40) 3 and (4, 3) → 50, 62.5 … see each test."""
    t, y = poll.w.tianhe_bureau, poll.w.yuexiu_bureau
    poll.open()
    for i, lv in enumerate((5, 4, 4)):
        poll.answer({t: lv}, group=poll.public, phone_digest=f"d{i}")
    poll.answer({t: 3, y: 5}, {t: "我叫张三丰，电话13812345678"})
    poll.answer({t: 4})
    poll.answer({y: (4, 2)}, {y: "越秀的意见"})  # one respondent, two answers: his satisfaction is 50


def test_the_weighted_satisfaction_and_its_interval_match_the_hand_computation(poll):
    _known(poll)
    stats = survey_stats(poll.survey)
    t = stats[poll.w.tianhe_bureau.pk]
    # 服务对象 mean 83.33 (s² 208.33, n 3); 企业 mean 62.5 (s² 312.5, n 2).
    # 0.6 × 83.333 + 0.4 × 62.5 = 75; var = 0.36 × 208.33 / 3 + 0.16 × 312.5 / 2 = 50; ± 1.96 × √50 = 13.86.
    assert [(g.name, g.n, g.mean) for g in t.groups] == [("服务对象", 3, Decimal("83.33")), ("企业", 2, Decimal("62.50"))]
    assert (t.n, t.value, t.low, t.high) == (5, Decimal("75.00"), Decimal("61.14"), Decimal("88.86"))


def test_a_group_without_respondents_for_an_organ_drops_out_of_its_weighting(poll):
    _known(poll)
    y = survey_stats(poll.survey)[poll.w.yuexiu_bureau.pk]
    # Only 企业 rated 越秀: 100 and the mean of (75, 25) = 50 → 75; the 服务对象 weight does not dilute it.
    assert [(g.n, g.mean) for g in y.groups] == [(0, None), (2, Decimal("75.00"))]
    assert y.value == Decimal("75.00") and y.groups[1].sd == Decimal("35.36")
    # Its interval is 企业's alone: 75 ± 1.96 × 35.36 / √2 = 75 ± 49.0, clipped to 0–100.
    assert (y.low, y.high) == (Decimal("26.00"), Decimal("100.00"))


def test_an_organ_rated_by_one_person_in_a_group_has_no_interval(poll):
    poll.open()
    poll.answer({poll.w.tianhe_bureau: 5})
    s = survey_stats(poll.survey)[poll.w.tianhe_bureau.pk]
    assert s.value == Decimal("100.00") and not s.has_interval


def test_the_office_reads_the_results_with_screened_comments_and_exports_them(poll, login):
    _known(poll)
    c = login(poll.w.appraisal_officer)
    page = c.get(f"/surveys/{poll.survey.pk}/results/").content.decode()
    assert "75.00" in page and "61.14–88.86" in page
    assert 'data-chart="satisfaction"' in page and "vendor/echarts/echarts.min.js" in page
    assert "我叫[姓名]，电话[电话]" in page and "张三丰" not in page and "13812345678" not in page
    response = c.get(f"/surveys/{poll.survey.pk}/results/?export=xlsx")
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows[0][:5] == ("机关", "加权满意度", "95% 置信区间下限", "95% 置信区间上限", "评议人数")
    by_organ = {r[0]: r for r in rows[1:]}
    assert by_organ[poll.w.tianhe_bureau.name][1:7] == (75, 61.14, 88.86, 5, 3, 83.33)


def test_the_survey_list_needs_the_same_few_queries_for_many_surveys(poll, login):
    c = login(poll.w.appraisal_officer)
    c.get("/surveys/")
    with CaptureQueriesContext(connection) as one:
        assert poll.survey.title in c.get("/surveys/?sort=-responses").content.decode()
    for n in range(5):
        actions.do_create_survey(title=f"评议{n}", year=2025, region=poll.w.gz, organs=[poll.w.tianhe_bureau],
                                 questions=[{"kind": "scale", "text": "总体"}], groups=[{"name": "群众", "weight": 100}])
    with CaptureQueriesContext(connection) as six:
        assert "评议4" in c.get("/surveys/?sort=-responses").content.decode()
    assert len(six) == len(one) <= 12


def test_outsiders_and_other_regions_get_404_on_every_staff_page(poll, login, world):
    _known(poll)
    actions.do_generate_invitations(poll.survey, group=poll.company, count=1)
    sz_officer = make_user("sz_appraisal", Role.APPRAISAL_OFFICER, region=world.sz)
    pages = ["", "codes/", "results/", "results/?export=xlsx"]
    for user in (world.outsider, sz_officer, world.county_handler, world.county_leader):
        c = login(user)
        for page in pages:
            assert c.get(f"/surveys/{poll.survey.pk}/{page}").status_code == 404, (user, page)
        assert c.post(f"/surveys/{poll.survey.pk}/", {"op": "close"}).status_code == 404
    assert login(sz_officer).get("/surveys/?export=xlsx").status_code == 200
    listed = login(sz_officer).get("/surveys/").content.decode()
    assert poll.survey.title not in listed
    assert login(world.outsider).get("/surveys/").status_code == 404
    assert login(world.outsider).get("/surveys/new/").status_code == 404


def test_an_organ_sees_its_own_results_and_comments_of_closed_surveys_never_another_organs(poll, login, world):
    _known(poll)
    yuexiu_leader = make_user("yuexiu_leader")
    Grant.objects.create(user=yuexiu_leader, role=Role.LEADER, organ=world.yuexiu_bureau)
    assert "越秀的意见" not in login(yuexiu_leader).get("/surveys/mine/").content.decode()  # still open
    actions.do_close_survey(poll.survey)
    page = login(yuexiu_leader).get("/surveys/mine/").content.decode()
    assert "越秀的意见" in page and world.yuexiu_bureau.name in page
    assert "我叫[姓名]" not in page and world.tianhe_bureau.name not in page
    assert page.count('data-testid="own-result"') == 1
    tianhe = login(world.county_leader).get("/surveys/mine/").content.decode()
    assert "我叫[姓名]" in tianhe and "越秀的意见" not in tianhe


def test_the_office_designs_opens_and_generates_codes_from_its_pages(world, login):
    c = login(world.appraisal_officer)
    assert c.get("/surveys/new/").status_code == 200
    bad = c.post("/surveys/new/", {"title": "评议", "year": 2026, "region": world.gz.pk,
                                   "organs": [world.tianhe_bureau.pk], "scale_questions": "总体满意度",
                                   "groups": "服务对象, 60, 手机\n企业, 30"})
    assert bad.status_code == 400 and "评议主体权重合计为 90，应为 100" in bad.content.decode()
    ok = c.post("/surveys/new/", {"title": "评议", "year": 2026, "region": world.gz.pk,
                                  "organs": [world.tianhe_bureau.pk], "scale_questions": "总体满意度",
                                  "open_questions": "建议", "groups": "服务对象, 60, 手机\n企业, 40"})
    assert ok.status_code == 302
    pk = int(ok["Location"].rstrip("/").rsplit("/", 1)[1])
    c.post(f"/surveys/{pk}/", {"op": "open"})
    group = RaterGroup.objects.get(survey_id=pk, name="企业")
    c.post(f"/surveys/{pk}/", {"op": "codes", "group": group.pk, "count": 7})
    page = c.get(f"/surveys/{pk}/").content.decode()
    assert "评议中" in page and "<svg" in page and group.invitations.count() == 7
    assert "?batch=1" in page


def test_the_office_finds_the_surveys_in_its_navigation_and_reads_them_in_english(poll, login, world):
    c = login(world.appraisal_officer)
    assert 'href="/surveys/"' in c.get("/").content.decode()
    assert 'href="/surveys/"' not in login(world.county_handler).get("/").content.decode()
    c = login(world.appraisal_officer)
    c.cookies["django_language"] = "en"
    page = c.get(f"/surveys/{poll.survey.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Generate invitation codes" in page and "Rater groups (weights add up to 100)" in page
