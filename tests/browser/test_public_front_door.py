"""A citizen's first visit: from the login page to the public home, and from there to every public service."""
import re

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SERVICES = [
    ("我要投诉", r"/public/complaints/new/$"),
    ("投诉查询与评价", r"/public/complaints/track/$"),
    ("办件查询", r"/public/cases/$"),
    ("评价服务（好差评）", r"/ratings/public/case/$"),
]


def test_a_citizen_finds_every_public_service_from_the_login_page(page, shot):
    page.goto("/login/")
    page.get_by_test_id("public-services-link").click()
    expect(page).to_have_url(re.compile(r"/public/$"))
    shot("01-public-home")
    services = page.get_by_test_id("public-services")
    for name, url in SERVICES:
        services.get_by_role("link", name=re.compile(name)).click()
        expect(page).to_have_url(re.compile(url))
        expect(page.locator("h1, h2").first).to_be_visible()
        page.go_back()

