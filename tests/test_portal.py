"""The public front door: every public service from one page, public 404s in the user's language, the rating
invitation after a finished case, and the window's printable rating QR code."""
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from xiaoneng.approvals import actions

PUBLIC_SERVICES = ["complaints-public:new", "complaints-public:track", "public:case-lookup", "ratings:public-case"]


@pytest.fixture(autouse=True)
def fresh_throttles():
    cache.clear()


def test_the_public_home_leads_to_every_public_service_and_each_opens_without_login(client, db):
    page = client.get("/public/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in PUBLIC_SERVICES:
        assert f'href="{reverse(name)}"' in html, name
        assert client.get(reverse(name)).status_code == 200, name


def test_the_login_page_leads_to_the_public_services(client, db):
    assert f'href="{reverse("portal:home")}"' in client.get(reverse("login")).content.decode()


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize("url", ["/public/no-such-page/", "/public/complaints/nothing/", "/ratings/public/window/999999/3号窗口/",
                                 "/ratings/public/nope"])
def test_an_unknown_public_address_is_the_public_404_page_also_in_debug(client, db, settings, debug, url):
    settings.DEBUG = debug
    response = client.get(url)
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and 'href="/public/"' in html
    assert "Django" not in html and "URLconf" not in html


def test_the_public_404_speaks_english_to_those_who_chose_english(client, db, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get("/public/no-such-page/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


@pytest.fixture
def finished_case(world, matters):
    case, _code = actions.do_submit_case(matter=matters.licence, case_no="TH-2026-0077", applicant_name="张三丰",
                                         applicant_phone="13800001234", received_at=timezone.now() - timedelta(days=2),
                                         verify_code="482913")
    actions.do_accept_case(case)
    return case


def look(client, case):
    return client.post(reverse("public:case-lookup"), {"case_no": case.case_no, "code": "482913"},
                       REMOTE_ADDR="10.9.9.9").content.decode()


def test_a_finished_case_invites_its_applicant_to_rate_with_the_number_filled_in(client, finished_case):
    assert 'data-testid="rate-invitation"' not in look(client, finished_case)  # still being handled
    actions.do_decide_case(finished_case, outcome="granted")
    html = look(client, finished_case)
    assert 'data-testid="rate-invitation"' in html
    link = f'{reverse("ratings:public-case")}?case_no={finished_case.case_no}'
    assert link in html
    form = client.get(link).content.decode()
    assert f'value="{finished_case.case_no}"' in form


def test_window_staff_print_the_rating_qr_code_of_their_window(world, client, login):
    login(world.county_handler)
    response = client.get(reverse("window-qr"), {"organ": world.tianhe_bureau.pk, "window": "3号窗口"})
    html = response.content.decode()
    assert response.status_code == 200 and "<svg" in html and "3号窗口" in html
    target = reverse("ratings:public-window", args=[world.tianhe_bureau.pk, "3号窗口"])
    assert client.get(target).status_code == 200


def test_the_qr_page_offers_only_the_staff_members_own_organs(world, client, login):
    login(world.county_handler)
    response = client.get(reverse("window-qr"), {"organ": world.futian_bureau.pk, "window": "1号窗口"})
    assert response.status_code == 200 and "<svg" not in response.content.decode()
    assert "机关" in response.content.decode()  # the organ field carries the error
    login(world.outsider)
    assert client.get(reverse("window-qr")).status_code == 403
