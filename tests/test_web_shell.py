"""The page shell: login and lockout, logout, language, navigation per role, headers, errors."""
import re

import pytest
from conftest import PASSWORD
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = pytest.mark.django_db

NAV_KEYS = {"home", "orgs", "staff", "calendar", "clocks", "audit", "admin", "api-docs"}


def nav_keys(html: str) -> set[str]:
    return set(re.findall(r'data-nav="([^"]+)"', html))


def post_login(client, username, password):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR="10.0.0.7")


def test_the_login_page_speaks_chinese_by_default(client, world):
    response = client.get(reverse("login"))
    html = response.content.decode()
    assert response.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "效能监察平台" in html
    assert '<label for="id_username">用户名</label>' in html
    assert '<label for="id_password">密码</label>' in html


def test_a_user_logs_in_with_the_right_password_and_lands_on_home(client, world):
    response = post_login(client, "city_supervisor", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    home = client.get(reverse("home")).content.decode()
    assert "您好，city_supervisor" in home
    assert "效能办监察员" in home


def test_a_wrong_password_gets_one_message_that_does_not_say_which_field_was_wrong(client, world):
    response = post_login(client, "city_supervisor", "not-the-password")
    html = response.content.decode()
    assert response.status_code == 200
    assert "用户名或密码不正确" in html
    response = post_login(client, "nobody-by-this-name", "whatever")
    assert "用户名或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_five_failures_lock_the_login_even_for_the_right_password(client, world):
    for _ in range(5):
        post_login(client, "county_handler", "wrong-password")
    response = post_login(client, "county_handler", PASSWORD)
    html = response.content.decode()
    assert response.status_code == 429
    assert "登录已暂时锁定" in html
    assert "连续 5 次登录失败" in html
    assert "_auth_user_id" not in client.session
    # Other accounts from the same address are not locked out by it.
    assert post_login(client, "city_supervisor", PASSWORD).status_code == 302


def test_logout_needs_a_post_so_a_link_cannot_sign_anyone_out(client, world, login):
    login(world.city_supervisor)
    assert client.get(reverse("logout")).status_code == 405
    assert client.get(reverse("home")).status_code == 200
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


def test_the_page_has_a_logout_form_that_posts(client, world, login):
    login(world.city_supervisor)
    html = client.get(reverse("home")).content.decode()
    assert re.search(r'<form class="logout-form" action="/logout/" method="post">', html)


def test_switching_to_english_changes_the_page_text(client, world, login):
    login(world.city_supervisor)
    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("orgs:index")})
    assert response.status_code == 302
    assert response["Location"] == reverse("orgs:index")
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html
    assert "Efficiency Supervision Platform" in html
    assert "Hello, city_supervisor" in html
    assert "Organisations" in html
    assert "效能监察平台" not in html
    assert "Efficiency-office supervisor" in html  # role names are translated too
    # ...and back.
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    assert "效能监察平台" in client.get(reverse("home")).content.decode()


def test_the_language_switch_offers_both_languages(client, world):
    html = client.get(reverse("login")).content.decode()
    assert 'name="language" value="zh-hans"' in html
    assert 'name="language" value="en"' in html
    assert "简体中文" in html and "English" in html


@pytest.mark.parametrize(
    "persona, expected",
    [
        ("admin", NAV_KEYS),
        ("province_supervisor", {"home", "orgs", "staff", "calendar", "clocks", "api-docs"}),
        ("county_handler", {"home", "orgs", "staff", "calendar", "clocks", "api-docs"}),
        ("appraisal_officer", {"home", "orgs", "staff", "calendar", "api-docs"}),
        ("auditor", {"home", "orgs", "staff", "calendar", "clocks", "audit", "api-docs"}),
        ("outsider", {"home"}),
    ],
)
def test_the_navigation_shows_each_role_only_what_it_may_use(client, world, login, persona, expected):
    login(getattr(world, persona))
    html = client.get(reverse("home")).content.decode()
    # Other capabilities add their own entries; the shell's own ones must match exactly.
    assert nav_keys(html) & NAV_KEYS == expected


def test_the_navigation_marks_the_current_page(client, world, login):
    login(world.city_supervisor)
    html = client.get(reverse("orgs:staff")).content.decode()
    assert re.search(r'class="nav-link is-active" data-nav="staff" aria-current="page"', html)
    assert not re.search(r'data-nav="orgs" aria-current', html)


def test_the_top_bar_names_the_user_and_their_roles(client, world, login):
    login(world.county_handler)
    html = client.get(reverse("home")).content.decode()
    assert '<span class="user-name" data-testid="user-name">county_handler</span>' in html
    assert '<span class="user-roles">办件人员</span>' in html


def test_home_welcomes_each_role_with_counts_from_its_own_scope(client, world, login):
    login(world.city_supervisor)
    html = client.get(reverse("home")).content.decode()
    assert "电子监察" in html
    # 广州: the city bureau, 天河 and 越秀 bureaus, and the 天河 station.
    assert re.search(r'data-testid="stat-organs">\s*<span class="stat-value">4</span>', html)
    login(world.county_handler)
    html = client.get(reverse("home")).content.decode()
    assert re.search(r'data-testid="stat-organs">\s*<span class="stat-value">2</span>', html)
    assert "广州市天河区市场监督管理局" in html  # the scope of the grant


def test_a_user_without_grants_is_told_so_and_sees_no_figures(client, world, login):
    login(world.outsider)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="no-grants"' in html
    assert "stat-organs" not in html


def test_supervisors_see_the_calendar_warning_and_handlers_do_not(client, world, login, monkeypatch):
    monkeypatch.setattr("xiaoneng.calendar.status.missing_next_year", lambda today=None: 2031)
    login(world.city_supervisor)
    html = client.get(reverse("home")).content.decode()
    assert 'data-testid="calendar-banner"' in html
    assert "2031 年的节假日安排尚未载入工作日历" in html
    login(world.county_handler)
    assert 'data-testid="calendar-banner"' not in client.get(reverse("home")).content.decode()


def test_no_calendar_warning_when_next_year_is_loaded(client, world, login, monkeypatch):
    monkeypatch.setattr("xiaoneng.calendar.status.missing_next_year", lambda today=None: None)
    login(world.city_supervisor)
    assert 'data-testid="calendar-banner"' not in client.get(reverse("home")).content.decode()


def test_security_headers_are_on_every_page(client, world, login):
    login(world.city_supervisor)
    for url in (reverse("login"), reverse("home"), reverse("orgs:index")):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_pages_load_scripts_and_styles_from_the_project_only(client, world, login):
    login(world.admin)
    html = client.get(reverse("home")).content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/vendor/htmx/htmx.min.js" in sources
    assert "/static/web/css/xiaoneng.css" in sources
    assert not [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert "<script>" not in html  # the CSP forbids inline scripts; none are written
    for path in ("/static/vendor/htmx/htmx.min.js", "/static/vendor/echarts/echarts.min.js", "/static/web/css/xiaoneng.css"):
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(
    "url",
    ["/", "/orgs/", "/orgs/staff/", "/orgs/organs/1/", "/orgs/regions/440100000000/", "/orgs/?export=xlsx"],
)
def test_anonymous_visitors_are_sent_to_the_login_page(client, world, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")


def test_a_missing_page_gets_the_friendly_404(client, world, login):
    login(world.city_supervisor)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "页面不存在" in response.content.decode()


def test_the_error_pages_render_without_a_request(world):
    assert "系统出错" in render_to_string("500.html")
    assert "无权访问" in render_to_string("403.html")
    assert "页面已过期" in render_to_string("403_csrf.html")


def test_english_pages_leave_no_chinese_outside_the_data(client, world, login):
    """Every label, heading and message of the shell and the browser is translated."""
    from xiaoneng.orgs.models import Organ, Region

    data = sorted(
        {*Region.objects.values_list("name", flat=True), *Organ.objects.values_list("name", flat=True)},
        key=len,
        reverse=True,
    )
    login(world.city_supervisor)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    pages = [
        reverse("home"),
        reverse("orgs:index"),
        reverse("orgs:index") + "?region=440304000000",  # out of scope: the error message
        reverse("orgs:staff"),
        reverse("orgs:organ", args=[world.tianhe_bureau.pk]),
        reverse("orgs:region", args=[world.gz.code]),
        "/no-such-page/",
    ]
    for url in pages:
        html = client.get(url).content.decode()
        html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
        labels = re.findall(r'(?:placeholder|aria-label|title|data-request-error)="([^"]*)"', html)
        text = " ".join([re.sub(r"<[^>]+>", " ", html), *labels])
        for name in [*data, "简体中文", "效"]:  # data, the other language's own name, the mark
            text = text.replace(name, " ")
        assert not re.findall(r"[\u4e00-\u9fff]+", text), url
