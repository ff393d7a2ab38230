"""The demo seed step: a closed 2025 and an open 2026 survey of the Guangzhou district bureaus, answered,
through the actions; run twice, nothing doubles."""
from xiaoneng.orgs.seed import null_progress
from xiaoneng.surveys.models import Answer, Response, Survey, SurveyStatus
from xiaoneng.surveys.seed import RESPONDENTS, seed_surveys
from xiaoneng.surveys.stats import survey_stats


def test_the_seed_makes_a_closed_2025_and_an_open_2026_survey_with_answers_and_is_idempotent(world):
    summary = seed_surveys("demo", null_progress)
    assert summary == f"{2 * RESPONDENTS} survey responses on 2 organs"
    surveys = {s.year: s for s in Survey.objects.all()}
    assert surveys[2025].status == SurveyStatus.CLOSED and surveys[2026].status == SurveyStatus.OPEN
    assert Response.objects.filter(survey=surveys[2025]).count() == RESPONDENTS
    stats = survey_stats(surveys[2025])
    assert all(s.value is not None and s.has_interval for s in stats.values())
    assert not Answer.objects.filter(screened_text__contains="13812345678").exists()
    seed_surveys("demo", null_progress)
    assert Survey.objects.count() == 2 and Response.objects.count() == 2 * RESPONDENTS
