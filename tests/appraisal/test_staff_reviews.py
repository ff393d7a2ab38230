"""Staff appraisal: quarterly grades, the written notice, 复核 on its clocks (30 calendar days, holidays moving
the last day), the personnel record's flags, and leadership-team results."""
import io

import pypdf
import pytest

from xiaoneng.appraisal import actions, personnel, reviews
from xiaoneng.appraisal.models import LeadingCadre, Result, StaffGrade, StaffReview
from xiaoneng.appraisal.staff import do_submit_staff_grades
from xiaoneng.clocks.explain import deadline_label
from xiaoneng.inbox.models import Notification
from xiaoneng.orgs.models import Post, Staff

from .conftest import TREE, at


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def people(land):
    from tests.conftest import make_user

    team = [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(10)]
    team[0].user = make_user("ganbu0")
    team[0].save(update_fields=["user"])
    return team


def grades(people, top: int, top_grade="excellent", other="competent") -> dict:
    return {p: (top_grade if i < top else other) for i, p in enumerate(people)}


def pdf_text(document_number: str) -> str:
    from xiaoneng.documents.models import Document

    document = Document.objects.get(number=document_number)
    with document.file.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")


def graded(land, people, who=0, when="2026-09-01T10:00", year=2025):
    """Grades submitted (two of ten 优秀), and person `who` told in writing at `when` (a PDF each: only one)."""
    out = do_submit_staff_grades(land.w.tianhe_bureau, year, grades(people, 2), at=at(when))
    return reviews.do_issue_staff_notice(out[who], at=at(when))


# --- quarterly grades -----------------------------------------------------------------------------------
def test_a_quarter_allows_two_fifths_as_good_and_says_so_when_over(land, people):
    with pytest.raises(actions.AppraisalError) as err:
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(people, 5, "good", "fairly_good"), quarter=2,
                               at=at("2026-07-03T10:00"))
    assert err.value.message == ("“好”等次超出比例：10 人参加本季度平时考核，“好”等次比例上限 40%，最多 4 人，现报 5 人")
    assert not StaffGrade.objects.exists()
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, grades(people, 4, "good", "fairly_good"), quarter=2,
                           at=at("2026-07-03T10:00"))
    assert StaffGrade.objects.filter(year=2026, quarter=2, grade="good").count() == 4


def test_a_quarter_takes_only_quarterly_grades_and_a_year_only_yearly_ones(land, people):
    with pytest.raises(actions.AppraisalError, match="干部0 的等次无效：excellent"):
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {people[0]: "excellent"}, quarter=1, at=at("2026-04-02T10:00"))
    with pytest.raises(actions.AppraisalError, match="季度应为 1 至 4"):
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {people[0]: "good"}, quarter=5, at=at("2026-04-02T10:00"))


def test_a_measure_bars_good_only_in_the_quarters_it_was_in_force(land, acct):
    acct.decided(when="2026-03-02T10:00", measure="warning")  # six months: to 2026-09-02
    team = [acct.zhang] + [Staff.objects.create(organ=land.w.tianhe_bureau, name=f"干部{n}") for n in range(4)]
    with pytest.raises(actions.AppraisalError) as err:
        do_submit_staff_grades(land.w.tianhe_bureau, 2026, {acct.zhang: "good"}, quarter=2, at=at("2026-07-03T10:00"))
    assert err.value.message.startswith("以下人员不得确定为好：张三：警告 季度内处于影响期")
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, {p: ("good" if p == acct.zhang else "fairly_good") for p in team},
                           quarter=4, at=at("2027-01-04T10:00"))
    assert StaffGrade.objects.get(staff=acct.zhang, quarter=4).grade == "good"


# --- the written notice ---------------------------------------------------------------------------------
def test_the_notice_is_a_pdf_naming_the_grade_and_the_last_day_to_ask_for_review(land, people,
                                                                                  django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = graded(land, people)
    assert first.notified_at == at("2026-09-01T10:00") and first.notice_number
    text = pdf_text(first.notice_number)
    for expected in ("公务员考核结果通知书", "干部0同志", "2025年度考核等次确定为“优秀”", "30日内", "复核",
                     "2026年10月8日", "广州市天河区市场监督管理局", "公务员考核规定"):
        assert expected in text, expected
    # Told in the platform too, once, when the person has an account.
    assert Notification.objects.filter(recipient=people[0].user, kind="appraisal").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        reviews.do_issue_staff_notice(first, at=at("2026-09-02T10:00"))
    assert Notification.objects.filter(recipient=people[0].user).count() == 1


def test_a_changed_grade_is_told_again_with_a_new_window(land, people):
    first = graded(land, people, who=2)
    old_window = first.review_window_id
    do_submit_staff_grades(land.w.tianhe_bureau, 2025, {people[2]: "basic"}, reason="年终复查后改定",
                           at=at("2026-09-03T10:00"))
    again = StaffGrade.objects.get(pk=first.pk)
    assert again.notified_at is None and again.review_window.state == "stopped"  # the old grade's window closed
    again = reviews.do_issue_staff_notice(again, at=at("2026-09-03T11:00"))
    assert again.review_window_id != old_window and "基本称职" in pdf_text(again.notice_number)


# --- 复核: the 30-day window --------------------------------------------------------------------------
def test_the_window_is_thirty_calendar_days_moved_past_the_national_day_holiday(land, people):
    grade = graded(land, people)  # told 2026-09-01; day 30 is 10-01, a holiday: the window ends 10-08 24:00
    assert deadline_label(grade.review_window.due_at) == "2026-10-08 24:00"
    assert grade.review_window.unit == "calendar" and grade.review_window.kind == "appraisal.staff_review_request"
    review = reviews.do_request_staff_review(grade, grounds="全年任务完成情况未予考虑", at=at("2026-10-08T23:59"))
    assert review.status == "pending" and review.original_grade == "excellent"
    assert StaffGrade.objects.get(pk=grade.pk).review_window.state == "stopped"


def test_a_request_after_the_window_is_refused_with_the_deadline(land, people):
    grade = graded(land, people)
    with pytest.raises(actions.AppraisalError) as err:
        reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-10-09T00:00"))
    assert err.value.message == "复核申请期限已于 2026-10-08 24:00 届满（自收到考核结果通知之日起 30 日），不予受理"
    assert not StaffReview.objects.exists()


def test_a_window_nobody_used_is_closed_by_the_monitoring_pass_at_its_deadline(land, people):
    from xiaoneng.clocks import monitor

    grade = graded(land, people)
    monitor.run_pass(at("2026-10-08T12:00"))
    assert StaffGrade.objects.get(pk=grade.pk).review_window.state == "running"  # still open that day
    monitor.run_pass(at("2026-10-09T08:00"))
    window = StaffGrade.objects.get(pk=grade.pk).review_window
    assert window.state == "stopped" and window.stopped_at == window.due_at
    with pytest.raises(actions.AppraisalError, match="届满"):
        reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-10-09T09:00"))


def test_without_a_holiday_the_thirtieth_day_is_the_last(land, people):
    grade = graded(land, people, when="2026-03-02T15:00")
    assert deadline_label(grade.review_window.due_at) == "2026-04-01 24:00"
    with pytest.raises(actions.AppraisalError, match="2026-04-01 24:00 届满"):
        reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-04-02T00:00"))
    reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-04-01T23:00"))


def test_no_review_before_the_notice_and_only_one_per_notice(land, people):
    grade = do_submit_staff_grades(land.w.tianhe_bureau, 2025, {people[5]: "competent"}, at=at("2026-09-01T10:00"))[0]
    with pytest.raises(actions.AppraisalError, match="尚未书面通知本人"):
        reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-09-02T10:00"))
    grade = reviews.do_issue_staff_notice(grade, at=at("2026-09-02T10:00"))
    reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-09-03T10:00"))
    with pytest.raises(actions.AppraisalError, match="已对该考核结果申请过复核"):
        reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-09-04T10:00"))
    with pytest.raises(actions.AppraisalError, match="正在复核"):
        do_submit_staff_grades(land.w.tianhe_bureau, 2025, {people[5]: "basic"}, at=at("2026-09-04T10:00"))


# --- 复核: the decision -----------------------------------------------------------------------------------
def test_the_office_decides_within_thirty_days_on_a_clock_and_an_upheld_grade_stands(land, people):
    grade = graded(land, people, who=3)
    review = reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-09-08T10:00"))
    assert review.clock.kind == "appraisal.staff_review" and deadline_label(review.clock.due_at) == "2026-10-08 24:00"
    with pytest.raises(actions.AppraisalError, match="请写明复核意见"):
        reviews.do_decide_staff_review(review, outcome="upheld", reasons=" ", at=at("2026-09-20T10:00"))
    review = reviews.do_decide_staff_review(review, outcome="upheld", reasons="考核程序合规，等次恰当",
                                            at=at("2026-09-20T10:00"))
    assert review.status == "upheld" and StaffGrade.objects.get(pk=grade.pk).grade == "competent"
    assert StaffReview.objects.get(pk=review.pk).clock.state == "stopped"
    from xiaoneng.documents.models import Document

    text = pdf_text(Document.objects.get(kind="appraisal.staff_review", subject_key=f"staffreview:{review.pk}").number)
    assert "维持你的2025年度考核等次“称职”" in text and "考核程序合规" in text


def test_a_change_is_checked_against_the_quota_and_then_applied(land, people):
    told = graded(land, people, who=4)  # 2 of 10 优秀: the quota is full
    review = reviews.do_request_staff_review(told, grounds="应为优秀", at=at("2026-09-08T10:00"))
    with pytest.raises(actions.AppraisalError) as err:
        reviews.do_decide_staff_review(review, outcome="changed", new_grade="excellent", reasons="业绩突出",
                                       at=at("2026-09-20T10:00"))
    assert err.value.message == "优秀等次超出比例：10 人参加考核，优秀比例上限 20%，最多 2 人，现报 3 人"
    assert err.value.field == "new_grade"
    assert StaffGrade.objects.get(pk=told.pk).grade == "competent"
    assert StaffReview.objects.get(pk=review.pk).status == "pending"
    with pytest.raises(actions.AppraisalError, match="与原等次相同"):
        reviews.do_decide_staff_review(review, outcome="changed", new_grade="competent", reasons="x",
                                       at=at("2026-09-20T10:00"))
    review = reviews.do_decide_staff_review(review, outcome="changed", new_grade="basic", reasons="经复核调整",
                                            at=at("2026-09-20T10:00"))
    assert StaffGrade.objects.get(pk=told.pk).grade == "basic" and review.new_grade == "basic"


def test_the_person_is_told_the_decision_in_the_platform(land, people, django_capture_on_commit_callbacks):
    grade = graded(land, people)
    review = reviews.do_request_staff_review(grade, grounds="理由", at=at("2026-09-08T10:00"))
    with django_capture_on_commit_callbacks(execute=True):
        reviews.do_decide_staff_review(review, outcome="upheld", reasons="维持", at=at("2026-09-09T10:00"))
    titles = list(Notification.objects.filter(recipient=people[0].user).values_list("title", flat=True))
    assert any("复核决定：维持原等次" in t for t in titles)


# --- the personnel record ----------------------------------------------------------------------------------
def flags(staff, on="2027-02-01"):
    from datetime import date

    return {f.code: f.reasons for f in personnel.record_of(staff, on=date.fromisoformat(on)).flags}


def test_a_measure_in_force_makes_a_person_not_promotable_with_the_case(land, acct):
    case, _parties = acct.decided(when="2026-12-01T10:00", measure="warning")
    found = flags(acct.zhang)
    assert "not_promotable" in found and "promotable" not in found
    assert any("警告影响期内" in r and case.number in r for r in found["not_promotable"])
    assert "promotable" in flags(acct.zhang, on="2027-07-01")  # six months later it has ended


def test_a_basic_year_bars_promotion_and_three_excellent_years_earn_a_merit(land, people):
    who = people[0]
    for year in (2023, 2024, 2025):
        do_submit_staff_grades(land.w.tianhe_bureau, year, grades(people, 1), at=at(f"{year + 1}-01-20T10:00"))
    found = flags(who)
    assert found["merit"] == ["连续三年年度考核为优秀（2023、2024、2025）"] and "promotable" in found
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, {who: "basic"}, at=at("2027-01-20T10:00"))
    assert flags(who)["not_promotable"] == ["2026 年度考核为基本称职"]


def test_two_incompetent_years_in_a_row_mean_dismissal_one_means_demotion(land, people):
    who = people[9]
    do_submit_staff_grades(land.w.tianhe_bureau, 2025, {who: "incompetent"}, at=at("2026-01-20T10:00"))
    assert "demote" in flags(who)
    do_submit_staff_grades(land.w.tianhe_bureau, 2026, {who: "incompetent"}, at=at("2027-01-20T10:00"))
    assert flags(who)["dismiss"] == ["连续两年年度考核为不称职（2025、2026）"]


# --- leadership teams ------------------------------------------------------------------------------------
def test_a_team_scheme_records_a_result_next_to_the_organs_and_each_leading_cadre(land):
    w = land.w
    chief = Staff.objects.create(organ=w.tianhe_bureau, name="王局长")
    deputy = Staff.objects.create(organ=w.tianhe_bureau, name="赵副局长")
    clerk = Staff.objects.create(organ=w.tianhe_bureau, name="钱科员")
    Post.objects.create(organ=w.tianhe_bureau, title="局长", is_leading=True).holders.add(chief)
    Post.objects.create(organ=w.tianhe_bureau, title="副局长", is_leading=True).holders.add(deputy)
    Post.objects.create(organ=w.tianhe_bureau, title="科员").holders.add(clerk)
    team = actions.do_create_scheme(organ_class=land.cls, year=2026, title="2026年领导班子考评方案",
                                    rows=[dict(r) for r in TREE], target="team")
    assert team.version == 1  # its own line of versions, beside the organs' scheme
    team_period = actions.do_activate_scheme(team)
    assert land.scheme.__class__.objects.get(pk=land.scheme.pk).status == "active"  # the organ scheme stands
    for period in (land.period, team_period):
        actions.do_close_period(period, at=at("2027-01-05T09:00"))
        actions.do_compute_period(period, at=at("2027-01-05T09:30"))
    assert Result.objects.filter(organ=w.tianhe_bureau, period__scheme__year=2026).count() == 2
    cadres = LeadingCadre.objects.filter(result__period=team_period, result__organ=w.tianhe_bureau)
    assert sorted(cadres.values_list("staff__name", "post_title")) == [("王局长", "局长"), ("赵副局长", "副局长")]
    from datetime import date

    record = personnel.record_of(chief, on=date(2027, 2, 1))
    assert [c.result.period_id for c in record.teams] == [team_period.pk]
    assert personnel.record_of(clerk, on=date(2027, 2, 1)).teams == []
