"""The read-only role of people's congress deputies and CPPCC members (人大代表/政协委员): the published
appraisal results of their region, on their home page and the appraisal pages — and nothing else."""
import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from xiaoneng.appraisal import actions
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Role

from .conftest import at

# Every page of these areas that takes no argument: cases, clocks, the calendar, supervision and its
# dashboard, complaints and ratings, accountability, the audit log, the organisations, the inbox.
DENIED = ("approvals", "clocks", "supervision", "dashboard", "complaints", "ratings", "accountability", "audit",
          "orgs", "inbox")


def pages_of(namespace: str) -> list[str]:
    resolver = get_resolver()
    inner = resolver.namespace_dict[namespace][1]
    urls = []

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + str(p.pattern))
            elif isinstance(p, URLPattern) and p.name and not p.pattern.regex.groups:
                urls.append(reverse(f"{namespace}:{p.name}"))

    walk(inner.url_patterns)
    return sorted(set(urls))


@pytest.fixture
def deputy(world):
    from tests.conftest import make_user

    return make_user("gz_deputy", Role.DEPUTY, region=world.gz)


def test_the_role_carries_the_published_results_only(deputy):
    assert access.PERMISSIONS[Role.DEPUTY] == frozenset({"appraisal.published"})
    for perm in ("case.view", "complaint.view", "accountability.view", "audit.view", "org.view", "appraise",
                 "appraisal.own", "supervise", "clock.view", "rating.view"):
        assert not access.has_perm(deputy, perm), perm


def test_a_deputy_sees_the_published_results_of_the_region_on_the_home_page_and_the_board(published, deputy, login):
    client = login(deputy)
    home = client.get(reverse("home")).content.decode()
    assert "人大代表/政协委员" in home and reverse("appraisal:board", args=[published.period.pk]) in home
    page = client.get(reverse("appraisal:published")).content.decode()
    assert published.w.tianhe_bureau.name in page and "48.00" in page and "较差" in page
    assert "责任清单和年度目标尚未纳入平台" in page
    board = client.get(reverse("appraisal:board", args=[published.period.pk])).content.decode()
    assert published.w.yuexiu_bureau.name in board
    assert "越秀的异议理由" not in board  # objections and lines stay with the office and the organ
    assert reverse("appraisal:result", args=[published.th.pk]) not in board
    assert client.get(reverse("appraisal:result", args=[published.th.pk])).status_code == 404
    line = published.th.lines.first()
    assert client.get(reverse("appraisal:line-records", args=[line.pk])).status_code == 404
    rows = client.get(reverse("appraisal:scores")).content.decode()
    assert published.w.tianhe_bureau.name in rows


def test_a_deputy_sees_nothing_before_publication_nor_of_another_region(land, deputy, world, login):
    from tests.conftest import make_user

    actions.do_close_period(land.period, at=at("2027-01-05T09:00"))
    actions.do_compute_period(land.period, at=at("2027-01-05T09:30"))
    actions.do_announce_provisional(land.period, at=at("2027-01-07T10:00"))
    client = login(deputy)
    assert client.get(reverse("appraisal:board", args=[land.period.pk])).status_code == 404
    assert "data-result=" not in client.get(reverse("appraisal:published")).content.decode()
    actions.do_publish_results(land.period, at=at("2027-01-15T11:00"))
    sz = login(make_user("sz_deputy", Role.DEPUTY, region=world.sz))
    assert sz.get(reverse("appraisal:board", args=[land.period.pk])).status_code == 404
    assert "data-result=" not in sz.get(reverse("appraisal:scores")).content.decode()


@pytest.mark.parametrize("namespace", DENIED)
def test_a_deputy_is_denied_every_other_page(published, deputy, login, namespace, acct):
    """Each page answers 403/404, or (a list, scoped like every list) shows none of the region's records:
    the bureau's case clock, its accountability case, its people, the bureau itself."""
    acct.decided()
    secrets = (published.w.tianhe_bureau.name, "承诺时限 2026-03-02", "天效问", "暗访发现窗口推诿", "张三")
    client = login(deputy)
    pages = pages_of(namespace)
    assert pages, namespace
    for url in pages:
        response = client.get(url)
        if response.status_code in (403, 404, 405):
            continue
        assert response.status_code in (200, 302), (url, response.status_code)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode(errors="replace")
        for secret in secrets:
            assert secret not in text, (url, secret)


def test_a_deputy_is_denied_the_appraisal_office_pages(published, deputy, login):
    client = login(deputy)
    for url in (reverse("appraisal:schemes"), reverse("appraisal:scheme", args=[published.scheme.pk]),
                reverse("appraisal:changes"), reverse("appraisal:mine"), reverse("appraisal:scheme-import")):
        assert client.get(url).status_code == 404, url
    assert client.post(reverse("appraisal:board", args=[published.period.pk]), {"op": "compute"}).status_code == 404


def test_a_deputy_reads_nothing_else_from_the_api(published, deputy, login):
    client = login(deputy)
    for path in ("/api/v1/organs/", "/api/v1/staff/", "/api/v1/clocks/", "/api/v1/complaints/",
                 "/api/v1/accountability/cases/", "/api/v1/regions/", "/api/v1/appraisal/results/",
                 "/api/v1/appraisal/schemes/"):
        response = client.get(path)
        assert response.status_code in (403, 404) or response.json()["results"] == [], path
