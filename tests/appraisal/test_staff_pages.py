"""Staff appraisal pages: grade entry (all or nothing, the rule's message on the form), the personnel
record, the person's 复核 request, the office's list and decision; and who sees nothing."""
import pytest
from django.urls import reverse

from xiaoneng.appraisal import reviews
from xiaoneng.appraisal.models import StaffGrade, StaffReview
from xiaoneng.appraisal.staff import do_submit_staff_grades
from xiaoneng.orgs.models import Staff

from .conftest import at


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def team(land):
    from tests.conftest import make_user

    people = [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(5)]
    people[0].user = make_user("ganbu0")
    people[0].save(update_fields=["user"])
    land.people = people
    land.colleague = people[1]
    return land


def form(people, excellent: int) -> dict:
    return {f"grade-{p.pk}": ("excellent" if i < excellent else "competent") for i, p in enumerate(people)}


def test_the_leader_over_the_quota_sees_the_message_on_the_form_and_nothing_is_saved(team, login):
    client = login(team.w.county_leader)
    url = reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk]) + "?year=2025&quarter=0"
    page = client.get(url).content.decode()
    assert page.count('name="grade-') == 5
    response = client.post(url, form(team.people, 2))
    assert response.status_code == 400
    html = response.content.decode()
    assert "优秀等次超出比例：5 人参加考核，优秀比例上限 20%，最多 1 人，现报 2 人" in html
    assert "本次报送未保存" in html
    assert html.count(' selected>优秀') == 2  # the choices stay as entered
    assert not StaffGrade.objects.exists()


def test_within_the_quota_the_grades_are_saved_and_each_person_told_in_writing(team, login):
    client = login(team.w.county_leader)
    url = reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk]) + "?year=2025&quarter=0"
    response = client.post(url, form(team.people, 1))
    assert response.status_code == 302
    assert StaffGrade.objects.filter(year=2025).count() == 5
    assert StaffGrade.objects.filter(notified_at__isnull=False).count() == 5
    page = client.get(url).content.decode()
    notice = StaffGrade.objects.get(staff=team.people[0])
    assert notice.notice_number in page
    pdf = client.get(reverse("appraisal:grade-notice", args=[notice.pk]))
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"


def test_a_quarterly_entry_offers_the_quarterly_grades(team, login):
    client = login(team.w.appraisal_officer)
    url = reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk]) + "?year=2026&quarter=3"
    html = client.get(url).content.decode()
    assert ">较好<" in html and ">称职<" not in html


def test_the_person_sees_their_record_asks_for_review_and_the_office_decides(team, login):
    from xiaoneng.clocks.explain import deadline_label

    grade = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {team.people[0]: "competent"})[0]
    grade = reviews.do_issue_staff_notice(grade)  # told now: the window is open
    person = login(team.people[0].user)
    record = reverse("appraisal:staff-record", args=[team.people[0].pk])
    html = person.get(record).content.decode()
    assert "人事考核档案" in html and deadline_label(grade.review_window.due_at) in html
    assert 'data-flag="promotable"' in html
    assert person.get(reverse("appraisal:my-record")).url == record
    assert person.get(reverse("appraisal:grade-notice", args=[grade.pk])).status_code == 200
    response = person.post(record, {"grade": grade.pk, "grounds": "本年度完成专项任务未计入"})
    assert response.status_code == 302
    review = StaffReview.objects.get()
    office = login(team.w.appraisal_officer)
    assert "干部0" in office.get(reverse("appraisal:reviews")).content.decode()
    export = office.get(reverse("appraisal:reviews") + "?export=xlsx")
    assert export.status_code == 200
    bad = office.post(reverse("appraisal:review", args=[review.pk]), {"outcome": "changed", "new_grade": "",
                                                                      "reasons": "x"})
    assert bad.status_code == 400 and "请选择变更后的等次" in bad.content.decode()
    # One person graded: ⌊1 × 20%⌋ = 0 may be 优秀, so the change is refused on the form, with the numbers.
    over = office.post(reverse("appraisal:review", args=[review.pk]), {"outcome": "changed", "new_grade": "excellent",
                                                                       "reasons": "专项任务突出"})
    assert over.status_code == 400 and "最多 0 人，现报 1 人" in over.content.decode()
    ok = office.post(reverse("appraisal:review", args=[review.pk]), {"outcome": "upheld", "reasons": "维持称职"})
    assert ok.status_code == 302
    assert StaffReview.objects.get().status == "upheld"
    assert "维持原等次" in person.get(record).content.decode()
    assert person.get(reverse("appraisal:review-notice", args=[review.pk])).status_code == 200


def test_a_late_request_on_the_page_shows_the_deadline_and_saves_nothing(team, login, monkeypatch):
    grade = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {team.people[0]: "competent"}, at=at("2026-09-01T10:00"))[0]
    reviews.do_issue_staff_notice(grade, at=at("2026-09-01T10:00"))
    from django.utils import timezone

    monkeypatch.setattr(timezone, "now", lambda: at("2026-10-09T09:00"))
    response = login(team.people[0].user).post(reverse("appraisal:staff-record", args=[team.people[0].pk]),
                                               {"grade": grade.pk, "grounds": "理由"})
    assert response.status_code == 400
    assert "复核申请期限已于 2026-10-08 24:00 届满" in response.content.decode()
    assert not StaffReview.objects.exists()


def test_a_person_sees_only_their_own_record_and_cannot_decide(team, login):
    grade = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {team.colleague: "competent"}, at=at("2026-09-01T10:00"))[0]
    person = login(team.people[0].user)
    assert person.get(reverse("appraisal:staff-record", args=[team.colleague.pk])).status_code == 404
    assert person.get(reverse("appraisal:grade-notice", args=[grade.pk])).status_code == 404
    assert person.get(reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk])).status_code == 404
    assert person.get(reverse("appraisal:reviews")).status_code == 404


@pytest.mark.parametrize("persona", ["outsider", "county_handler", "shenzhen_handler", "auditor"])
def test_an_outsider_sees_nothing(team, login, persona):
    grade = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {team.people[0]: "competent"}, at=at("2026-09-01T10:00"))[0]
    reviews.do_issue_staff_notice(grade, at=at("2026-09-01T10:00"))
    review = reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-09-02T10:00"))
    client = login(getattr(team.w, persona))
    for url in (reverse("appraisal:grade-organs"), reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk]),
                reverse("appraisal:staff-record", args=[team.people[0].pk]),
                reverse("appraisal:grade-notice", args=[grade.pk]), reverse("appraisal:reviews"),
                reverse("appraisal:reviews") + "?export=xlsx", reverse("appraisal:review", args=[review.pk]),
                reverse("appraisal:review-notice", args=[review.pk]), reverse("appraisal:my-record")):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk]),
                       form(team.people, 0)).status_code == 404
    assert client.post(reverse("appraisal:review", args=[review.pk]),
                       {"outcome": "upheld", "reasons": "x"}).status_code == 404
    assert StaffGrade.objects.count() == 1 and StaffReview.objects.get().status == "pending"


def test_a_leader_of_another_organ_and_an_office_of_another_region_see_nothing(team, login):
    from tests.conftest import make_user
    from xiaoneng.orgs.models import Role

    grade = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {team.people[0]: "competent"}, at=at("2026-09-01T10:00"))[0]
    sz_officer = make_user("sz_officer", Role.APPRAISAL_OFFICER, region=team.w.sz)
    for user in (team.yuexiu_leader, sz_officer):
        client = login(user)
        assert client.get(reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk])).status_code == 404
        assert client.get(reverse("appraisal:staff-record", args=[team.people[0].pk])).status_code == 404
        assert client.get(reverse("appraisal:grade-notice", args=[grade.pk])).status_code == 404
    assert 'data-review=' not in login(sz_officer).get(reverse("appraisal:reviews")).content.decode()


def test_a_team_result_names_its_leading_cadres_and_says_it_is_the_team(land, login):
    from xiaoneng.appraisal import actions
    from xiaoneng.appraisal.models import Result
    from xiaoneng.orgs.models import Post

    from .conftest import TREE

    chief = Staff.objects.create(organ=land.w.tianhe_bureau, name="王局长")
    Post.objects.create(organ=land.w.tianhe_bureau, title="局长", is_leading=True).holders.add(chief)
    team = actions.do_create_scheme(organ_class=land.cls, year=2026, title="领导班子方案", rows=[dict(r) for r in TREE],
                                    target="team")
    period = actions.do_activate_scheme(team)
    actions.do_close_period(period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(period, at=at("2027-01-05T09:30"))
    result = Result.objects.get(period=period, organ=land.w.tianhe_bureau)
    client = login(land.w.appraisal_officer)
    html = client.get(reverse("appraisal:result", args=[result.pk])).content.decode()
    assert "领导班子" in html and "王局长（局长）" in html
    assert "领导班子" in client.get(reverse("appraisal:scheme", args=[team.pk])).content.decode()
    record = client.get(reverse("appraisal:staff-record", args=[chief.pk])).content.decode()
    assert 'data-testid="teams"' in record and "局长" in record


def test_the_review_list_and_the_record_cost_the_same_queries_for_more_rows(team, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xiaoneng.clocks import actions as clocks

    def requested(people):
        for p in people:
            g = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {p: "competent"})[0]
            g.notified_at = g.submitted_at  # told (the PDF is not what this test measures)
            g.review_window = clocks.do_start_clock(kind=reviews.WINDOW_CLOCK, start_at=g.submitted_at, limit=30,
                                                    unit="calendar", region_code=g.organ.region_code)
            g.save()
            reviews.do_request_staff_review(g, grounds="理由")

    client = login(team.w.appraisal_officer)
    url = reverse("appraisal:reviews")
    requested(team.people[:2])
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    requested(team.people[2:])
    with CaptureQueriesContext(connection) as more:
        html = client.get(url).content.decode()
    assert html.count("data-review=") == 5
    assert len(more) == len(few)


def test_the_office_registers_a_written_request_by_the_day_it_arrived(team, login):
    person = team.people[2]  # no account: asks on paper
    grade = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {person: "competent"}, at=at("2026-09-01T10:00"))[0]
    reviews.do_issue_staff_notice(grade, at=at("2026-09-01T10:00"))
    url = reverse("appraisal:staff-record", args=[person.pk])
    office = login(team.w.appraisal_officer)
    late = office.post(url, {"op": "register", "grade": grade.pk, "grounds": "书面申请", "received_at": "2026-10-09T09:00"})
    assert late.status_code == 400 and "复核申请期限已于 2026-10-08 24:00 届满" in late.content.decode()
    ok = office.post(url, {"op": "register", "grade": grade.pk, "grounds": "书面申请", "received_at": "2026-10-08T16:00"})
    assert ok.status_code == 302
    assert StaffReview.objects.get().requested_at == at("2026-10-08T16:00")
    # The leader reads the record but does not register requests; the office does not ask as the person.
    leader = login(team.w.county_leader)
    assert leader.post(url, {"op": "register", "grade": grade.pk, "grounds": "x",
                             "received_at": "2026-10-08T16:00"}).status_code == 404
    assert login(team.w.appraisal_officer).post(url, {"grade": grade.pk, "grounds": "x"}).status_code == 404


def test_the_pages_read_in_english(team, login):
    client = login(team.w.county_leader)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    url = reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk]) + "?year=2025&quarter=0"
    response = client.post(url, form(team.people, 2))
    html = response.content.decode()
    assert "Too many excellent grades: 5 persons appraised, at most 20% excellent, that is 1; 2 submitted" in html
    assert "Submit grades" in html and "Nothing of this submission was saved" in html
    record = client.get(reverse("appraisal:staff-record", args=[team.people[0].pk])).content.decode()
    assert "Personnel appraisal record" in record and "Eligible for promotion" in record


def test_a_pending_review_waits_in_the_offices_to_do_and_nobody_elses(team, login):
    grade = do_submit_staff_grades(team.w.tianhe_bureau, 2025, {team.people[3]: "competent"})[0]
    review = reviews.do_request_staff_review(reviews.do_issue_staff_notice(grade), grounds="理由")
    from xiaoneng.inbox.todo import sections

    found = {s.key: s for s in sections(team.w.appraisal_officer)}
    assert found["staff_reviews"].count == 1
    assert found["staff_reviews"].items[0].link == reverse("appraisal:review", args=[review.pk])
    assert "staff_reviews" not in {s.key for s in sections(team.w.county_leader)}
    from tests.conftest import make_user
    from xiaoneng.orgs.models import Role

    sz_officer = make_user("sz_officer", Role.APPRAISAL_OFFICER, region=team.w.sz)
    assert {s.key: s.count for s in sections(sz_officer)}["staff_reviews"] == 0


def test_the_staff_list_links_names_to_the_record_for_those_who_read_it(team, login):
    record = reverse("appraisal:staff-record", args=[team.people[0].pk])
    assert record in login(team.w.county_leader).get(reverse("orgs:staff")).content.decode()
    assert record not in login(team.w.county_handler).get(reverse("orgs:staff")).content.decode()


def test_a_bad_period_in_the_address_shows_its_error(team, login):
    client = login(team.w.county_leader)
    html = client.get(reverse("appraisal:grade-entry", args=[team.w.tianhe_bureau.pk]) + "?year=abc&quarter=9").content.decode()
    assert "alert-error" in html and "<p>年度：" in html and "<p>考核类别：" in html
