"""A citizen answers a public survey on a phone: scans the invitation's QR link, rates two organs, leaves a
comment with a phone number in it, and the office reads the result with the number hidden."""
import os
import re

import pytest
from playwright.sync_api import expect

from tests.surveys.conftest import GROUPS, QUESTIONS
from xiaoneng.surveys import actions, codes
from xiaoneng.surveys.models import Answer, Invitation, Response

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_citizen_answers_on_a_phone_from_the_invitation_link(chromium, live_server, world, settings):
    settings.XIAONENG_RULES = {"survey_min_fill_seconds": 1}
    survey = actions.do_create_survey(title="2026年群众评议", year=2026, region=world.gz,
                                      organs=[world.tianhe_bureau, world.yuexiu_bureau],
                                      questions=[dict(q) for q in QUESTIONS], groups=[dict(g) for g in GROUPS])
    actions.do_open_survey(survey)
    invitation = actions.do_generate_invitations(survey, group=survey.groups.get(name="企业"), count=1)[0]
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", viewport={"width": 390, "height": 844},
                                   is_mobile=True, has_touch=True)
    page = context.new_page()
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    try:
        page.goto(f"/public/surveys/{survey.slug}/?code={codes.shown(invitation.code)}")
        page.get_by_role("button", name="开始评议").click()
        expect(page).to_have_url(re.compile(r"/answer/$"))
        expect(page.get_by_test_id("rater-group")).to_contain_text("企业")
        tianhe = page.locator(f'fieldset[data-organ="{world.tianhe_bureau.pk}"]')
        tianhe.get_by_role("radiogroup").first.get_by_text("非常满意").click()
        tianhe.get_by_role("radiogroup").nth(1).get_by_text("满意", exact=True).click()
        tianhe.locator("textarea").fill("很好，有事打13812345678")
        if os.environ.get("XIAONENG_SCREENSHOT_DIR"):
            page.screenshot(path=os.path.join(os.environ["XIAONENG_SCREENSHOT_DIR"], "survey-form.png"), full_page=True)
        # The page fits the phone: no sideways scrolling.
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        page.wait_for_timeout(1200)
        page.get_by_role("button", name="提交评议").click()
        expect(page.get_by_test_id("survey-thanks")).to_be_visible()
    finally:
        context.close()
    assert not problems, problems
    response = Response.objects.get()
    assert Invitation.objects.get(pk=invitation.pk).used
    assert sorted(response.answers.exclude(level=None).values_list("level", flat=True)) == [4, 5]
    assert Answer.objects.get(response=response, level=None).screened_text == "很好，有事打[电话]"
