"""A closed survey's results on the public site: only when its office chose to publish them; per organ the
weighted satisfaction and the number of respondents, nothing else; the public 404 otherwise."""
import re

import pytest
from django.urls import reverse

from xiaoneng.surveys import actions
from xiaoneng.surveys.models import Survey
from xiaoneng.surveys.public_results import do_set_survey_public_site
from xiaoneng.surveys.stats import survey_stats

LIST = "/public/appraisal/"


@pytest.fixture
def closed(poll):
    t, y = poll.w.tianhe_bureau, poll.w.yuexiu_bureau
    poll.open()
    for i, lv in enumerate((5, 4, 4)):
        poll.answer({t: lv}, group=poll.public, phone_digest=f"d{i}")
    poll.answer({t: 3, y: 5}, {t: "我叫张三丰，电话13812345678"})
    poll.answer({y: (4, 2)}, {y: "越秀的意见"})
    poll.survey = actions.do_close_survey(poll.survey)
    return poll


def page_of(poll) -> str:
    return reverse("appraisal-public:survey", args=[poll.survey.pk])


def test_a_survey_is_public_only_once_closed_and_chosen(poll, client):
    poll.open()
    with pytest.raises(actions.SurveyError) as err:
        do_set_survey_public_site(poll.survey, public=True)
    assert err.value.field == "status" and not Survey.objects.get(pk=poll.survey.pk).on_public_site
    Survey.objects.filter(pk=poll.survey.pk).update(on_public_site=True)  # an open survey, even flagged
    assert client.get(page_of(poll)).status_code == 404
    assert f'data-survey="{poll.survey.pk}"' not in client.get(LIST).content.decode()


def test_a_closed_survey_not_chosen_stays_off_the_public_site(closed, client):
    assert client.get(page_of(closed)).status_code == 404
    assert 'data-testid="public-appraisal"' not in client.get("/public/").content.decode()


def test_the_public_figures_are_the_weighted_satisfaction_and_respondents_only(closed, client):
    do_set_survey_public_site(closed.survey, public=True)
    assert f'data-survey="{closed.survey.pk}"' in client.get(LIST).content.decode()
    assert 'data-testid="public-appraisal"' in client.get("/public/").content.decode()
    page = client.get(page_of(closed)).content.decode()
    table = re.search(r'data-testid="public-survey-figures">.*?</table>', page, re.S).group(0)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r) for r in re.findall(r"<tr>(.*?)</tr>", table, re.S)]
    stats = survey_stats(closed.survey)
    assert cells[0] == ["机关", "满意度", "参评人数"]
    assert sorted(cells[1:]) == sorted([[o.name, str(stats[o.pk].value), str(stats[o.pk].n)]
                                        for o in (closed.w.tianhe_bureau, closed.w.yuexiu_bureau)])
    for hidden in ("张三丰", "越秀的意见", "服务对象", "企业", "总体满意度"):
        assert hidden not in page


def test_unknown_or_withdrawn_surveys_are_the_public_404(closed, client):
    do_set_survey_public_site(closed.survey, public=True)
    do_set_survey_public_site(closed.survey, public=False)
    for url in (page_of(closed), f"{LIST}surveys/{closed.survey.pk + 1000}/"):
        response = client.get(url)
        assert response.status_code == 404 and "公众服务首页" in response.content.decode(), url


def test_the_office_publishes_the_results_from_the_survey_page_and_others_cannot(closed, login):
    url = reverse("surveys:detail", args=[closed.survey.pk])
    outsider = login(closed.w.county_leader)
    assert outsider.post(url, {"op": "public_site", "public": "1"}).status_code == 404
    assert not Survey.objects.get(pk=closed.survey.pk).on_public_site
    office = login(closed.w.appraisal_officer)
    assert 'data-testid="public-site"' in office.get(url).content.decode()
    office.post(url, {"op": "public_site", "public": "1"})
    assert Survey.objects.get(pk=closed.survey.pk).on_public_site


def test_the_public_survey_page_reads_in_english(closed, client):
    do_set_survey_public_site(closed.survey, public=True)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(page_of(closed)).content.decode()
    assert "Respondents" in page and "Satisfaction" in page and "closed" in page and "参评人数" not in page
    assert "Public survey results" in client.get(LIST).content.decode()
