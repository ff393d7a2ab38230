"""The appraisal charts in a real browser: ECharts, served by the project, draws the radar and the trend on an
organ's result page and the ranking on the board, with no console error (the CSP allows no inline script)."""
import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from playwright.sync_api import expect

from tests.appraisal.conftest import acct, land, published  # noqa: F401  (the appraisal fixtures, used by name)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username, target):
    page.goto(f"/login/?next={target}")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_the_result_page_and_the_board_draw_their_charts(page, request, shot):
    published = request.getfixturevalue("published")  # noqa: F811 - the imported fixture, by name
    sign_in(page, "county_leader", f"/appraisal/results/{published.th.pk}/")
    expect(page.locator('[data-appraisal-chart="radar"] svg')).to_be_visible()
    expect(page.locator('[data-appraisal-chart="trend"] svg')).to_be_visible()
    expect(page.locator('[data-appraisal-chart="radar"]')).to_contain_text("办件效能")
    shot("appraisal-result")
    page.goto(f"/appraisal/periods/{published.period.pk}/")
    expect(page.locator('[data-appraisal-chart="ranking"] svg')).to_be_visible()
    expect(page.locator('[data-appraisal-chart="ranking"]')).to_contain_text("广州市越秀区市场监督管理局")
    shot("appraisal-board")
