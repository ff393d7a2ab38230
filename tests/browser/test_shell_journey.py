"""A supervisor's first visit, through the real pages in a real browser."""
import re

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def rows(page):
    return page.locator('[data-testid="organ-table"] tbody th[scope="row"]')


def test_a_supervisor_signs_in_browses_organs_switches_language_and_signs_out(page, world, shot):
    # 1. Any internal page sends an anonymous visitor to the login form.
    page.goto("/orgs/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/orgs/"))
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    shot("01-login")

    # 2. Sign in through the form and land where they were going.
    page.get_by_label("用户名").fill("city_supervisor")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    expect(page.get_by_test_id("user-name")).to_have_text("city_supervisor")

    # 3. The navigation shows what a supervisor may use, and nothing else.
    nav = page.get_by_role("navigation", name="主导航")
    for label in ("首页", "组织机构", "工作人员", "工作日历", "时限", "API 文档"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_be_visible()
    for label in ("审计日志", "后台管理"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)

    nav.get_by_role("link", name="首页", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("您好，city_supervisor")
    expect(page.get_by_test_id("stat-organs")).to_contain_text("4")
    expect(page.locator('[data-chart="kinds"] svg')).to_have_count(1)  # ECharts drew the chart
    shot("02-home")

    # 4. The organisation browser: the region tree and the organs of 广州.
    nav.get_by_role("link", name="组织机构", exact=True).click()
    expect(page).to_have_url(re.compile(r"/orgs/$"))
    expect(rows(page)).to_have_count(4)
    tree = page.locator("aside.tree-panel")
    expect(tree.get_by_role("link", name="天河区")).to_be_visible()
    expect(tree.get_by_text("深圳市")).to_have_count(0)
    shot("03-organs")

    # 5. Filters refresh the list in place (htmx) and the address follows them.
    page.get_by_label("搜索", exact=True).fill("天河")
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"q=%E5%A4%A9%E6%B2%B3"))
    page.get_by_label("搜索", exact=True).fill("")
    expect(rows(page)).to_have_count(4)
    page.get_by_label("区划", exact=True).select_option(label="\u3000越秀区")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_have_text("广州市越秀区市场监督管理局")
    page.get_by_label("区划", exact=True).select_option(value="")
    expect(rows(page)).to_have_count(4)

    # Sorting by a column header also refreshes in place, and the filter form keeps it.
    page.get_by_role("link", name="名称").click()
    expect(page.locator('th[aria-sort="ascending"]')).to_have_text("名称")
    names = rows(page).all_inner_texts()
    assert names == sorted(names)
    page.get_by_role("link", name="名称").click()
    expect(page.locator('th[aria-sort="descending"]')).to_have_text("名称")
    expect(page.locator('input[name="sort"][form="organ-filter"]')).to_have_value("-name")
    page.get_by_label("类别", exact=True).select_option(value="government")
    expect(rows(page)).to_have_count(4)
    assert rows(page).all_inner_texts() == sorted(names, reverse=True)
    shot("04-filtered")

    # The Back button restores a whole page, not a bare fragment.
    page.go_back()
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    expect(rows(page)).to_have_count(4)
    expect(page.locator("#organ-filter")).to_have_count(1)

    # 6. An organ page: its place in the region tree, its staff and posts.
    rows(page).get_by_role("link", name="广州市天河区市场监督管理局").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("广州市天河区市场监督管理局")
    expect(page.get_by_role("navigation", name="位置")).to_contain_text("广州市")
    expect(page.get_by_test_id("child-organs")).to_contain_text("天河区石牌市场监管所")
    shot("05-organ")

    # 7. Switch to English: same page, English words.
    page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=2, name="Basic information")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main navigation").get_by_role("link", name="Organisations")).to_be_visible()
    shot("06-english")

    # 8. Sign out (a POST form), and the pages are closed again.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/login/$"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    page.goto("/orgs/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/orgs/"))
