"""Published appraisal rankings on the public site: only periods published AND chosen by the office,
only organ, total, rank and grade; the public 404 for anything else; no login."""
import re

import pytest
from django.test import Client
from django.urls import reverse

from xiaoneng.appraisal import actions, public_site
from xiaoneng.appraisal.models import Period
from xiaoneng.audit.models import AuditEntry

LIST = "/public/appraisal/"


def detail(period) -> str:
    return reverse("appraisal-public:detail", args=[period.pk])


def test_a_published_period_is_not_public_until_the_office_chooses_it(published, client):
    assert client.get(detail(published.period)).status_code == 404
    assert f'data-period="{published.period.pk}"' not in client.get(LIST).content.decode()
    assert 'data-testid="public-appraisal"' not in client.get("/public/").content.decode()
    public_site.do_set_public_site(published.period, public=True)
    assert f'data-period="{published.period.pk}"' in client.get(LIST).content.decode()
    assert 'data-testid="public-appraisal"' in client.get("/public/").content.decode()
    assert client.get(detail(published.period)).status_code == 200


def test_an_unpublished_period_never_appears_even_if_flagged(land, client):
    with pytest.raises(actions.AppraisalError) as err:
        public_site.do_set_public_site(land.period, public=True)
    assert err.value.field == "status"
    assert not Period.objects.get(pk=land.period.pk).on_public_site
    Period.objects.filter(pk=land.period.pk).update(on_public_site=True)  # even a flag set by hand
    assert client.get(detail(land.period)).status_code == 404
    assert f'data-period="{land.period.pk}"' not in client.get(LIST).content.decode()
    assert 'data-testid="public-appraisal"' not in client.get("/public/").content.decode()


def test_the_public_ranking_shows_organ_total_rank_and_grade_only(published, client):
    public_site.do_set_public_site(published.period, public=True)
    page = client.get(detail(published.period)).content.decode()
    table = re.search(r'<table class="table" data-testid="public-ranking">.*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    cells = [re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r) for r in rows]
    assert cells[0] == ["排名", "机关", "总分", "等次"]
    assert sorted(cells[1:]) == sorted([
        [str(r.rank), r.organ.name, str(r.total), r.get_grade_display()] for r in (published.th, published.yx)])
    for hidden in ("越秀的异议理由", "异议", "准时办结率", "加减分", published.th.lines.first().formula):
        assert hidden not in page


def test_withdrawing_removes_the_period_and_is_audited(published, client):
    public_site.do_set_public_site(published.period, public=True)
    public_site.do_set_public_site(published.period, public=False)
    assert client.get(detail(published.period)).status_code == 404
    assert AuditEntry.objects.filter(action="appraisal.public_site").count() == 2


def test_unknown_ids_are_the_public_404(published, client):
    public_site.do_set_public_site(published.period, public=True)
    for url in (f"{LIST}{published.period.pk + 1000}/", f"{LIST}abc/"):
        response = client.get(url)
        assert response.status_code == 404 and "公众服务首页" in response.content.decode(), url


def test_the_list_is_paged(two_years, client, monkeypatch):
    for period in (two_years.period, two_years.period25):
        public_site.do_set_public_site(period, public=True)
    monkeypatch.setattr(public_site, "PER_PAGE", 1)
    first, second = client.get(LIST).content.decode(), client.get(LIST, {"page": "2"}).content.decode()
    shown = {int(pk) for page in (first, second) for pk in re.findall(r'data-period="(\d+)"', page)}
    assert shown == {two_years.period.pk, two_years.period25.pk}
    assert 'rel="next"' in first and 'rel="next"' not in second


def test_the_office_puts_the_ranking_on_the_public_site_from_the_board(published, login):
    board = reverse("appraisal:board", args=[published.period.pk])
    outsider = login(published.w.county_leader)  # an organ of the class sees the ranking but may not publish it
    assert outsider.post(board, {"op": "public_site", "public": "1"}).status_code == 404
    assert not Period.objects.get(pk=published.period.pk).on_public_site
    office = Client()
    office.force_login(published.w.appraisal_officer, backend="django.contrib.auth.backends.ModelBackend")
    assert 'data-testid="public-site"' in office.get(board).content.decode()
    office.post(board, {"op": "public_site", "public": "1"})
    assert Period.objects.get(pk=published.period.pk).on_public_site
    assert detail(published.period) in office.get(board).content.decode()
    office.post(board, {"op": "public_site", "public": "0"})
    assert not Period.objects.get(pk=published.period.pk).on_public_site


def test_the_public_pages_read_in_english(published, client):
    public_site.do_set_public_site(published.period, public=True)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    listing = client.get(LIST).content.decode()
    assert "Appraisal results" in listing and "绩效考评结果" not in listing
    page = client.get(detail(published.period)).content.decode()
    assert "Rank" in page and "Grade" in page and "published" in page and "公布" not in page
    assert "Appraisal results" in client.get("/public/").content.decode()
