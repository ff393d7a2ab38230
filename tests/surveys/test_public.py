"""The respondent's side: entry by invitation code or verified phone, the form's guards (honeypot, fill time,
address limit, CSRF), one answer per code and per phone, replays, and nothing told about other respondents."""
import re
import time

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xiaoneng.complaints.identity import digest
from xiaoneng.notify.models import Message
from xiaoneng.surveys import actions, codes, guard
from xiaoneng.surveys.models import Answer, Ballot, Invitation, Response

from .conftest import old_stamp


def _url(poll, part=""):
    return f"/public/surveys/{poll.survey.slug}/{part}"


def _form(poll, **extra):
    w = poll.w
    data = {"stamp": old_stamp(), "website": "", f"a-{w.tianhe_bureau.pk}-{poll.overall.pk}": "5",
            f"a-{w.tianhe_bureau.pk}-{poll.speed.pk}": "4", f"a-{w.yuexiu_bureau.pk}-{poll.overall.pk}": "",
            f"a-{w.tianhe_bureau.pk}-{poll.comment.pk}": "窗口很好"}
    data.update(extra)
    return data


def _enter_with_code(client, poll, code):
    return client.post(_url(poll), {"op": "code", "code": code})


@pytest.fixture
def opened(poll):
    poll.open()
    poll.code = actions.do_generate_invitations(poll.survey, group=poll.company, count=3)[0]
    return poll


def test_a_draft_survey_does_not_exist_for_the_public(poll, client):
    response = client.get(_url(poll))
    assert response.status_code == 404 and "页面不存在" in response.content.decode()


def test_a_respondent_enters_with_a_typed_code_answers_and_is_thanked(opened, client):
    typed = codes.shown(opened.code.code).lower().replace("-", " ")
    response = _enter_with_code(client, opened, typed)
    assert response.status_code == 302 and response["Location"].endswith("/answer/")
    page = client.get(_url(opened, "answer/")).content.decode()
    assert "您以“企业”身份参加评议" in page and opened.w.yuexiu_bureau.name in page and 'name="website"' in page
    response = client.post(_url(opened, "answer/"), _form(opened))
    assert response.status_code == 302 and response["Location"].endswith("/done/")
    stored = Response.objects.get()
    assert stored.group == opened.company
    assert Ballot.objects.filter(key=f"i:{opened.code.pk}").exists()
    assert sorted(Answer.objects.exclude(level=None).values_list("level", flat=True)) == [4, 5]
    assert Invitation.objects.get(pk=opened.code.pk).used
    assert "感谢您参加评议" in client.get(_url(opened, "done/")).content.decode()


def test_the_qr_link_of_an_invitation_fills_in_its_code(opened, client):
    page = client.get(_url(opened) + f"?code={codes.shown(opened.code.code)}").content.decode()
    assert f'value="{codes.shown(opened.code.code)}"' in page


def test_a_replayed_submission_after_success_stores_nothing_more(opened, client):
    _enter_with_code(client, opened, opened.code.code)
    data = _form(opened)
    assert client.post(_url(opened, "answer/"), data).status_code == 302
    replay = client.post(_url(opened, "answer/"), data)
    assert replay.status_code == 302 and replay["Location"].endswith(f"/public/surveys/{opened.survey.slug}/")
    assert Response.objects.count() == 1


def test_a_used_code_is_refused_in_a_second_browser_and_by_a_session_opened_before_it_was_used(opened):
    first, second = Client(), Client()
    _enter_with_code(first, opened, opened.code.code)
    _enter_with_code(second, opened, opened.code.code)  # both sessions hold the code (double submit)
    assert first.post(_url(opened, "answer/"), _form(opened)).status_code == 302
    late = second.post(_url(opened, "answer/"), _form(opened))
    assert late.status_code == 400 and "该邀请码已使用，每个邀请码只能提交一次" in late.content.decode()
    again = _enter_with_code(Client(), opened, opened.code.code)
    assert again.status_code == 400 and "邀请码无效或已使用" in again.content.decode()
    assert Response.objects.count() == 1


def test_the_database_holds_one_response_per_code_even_when_the_used_mark_is_bypassed(opened):
    actions.do_submit_response(opened.survey, answers={(opened.w.tianhe_bureau.pk, opened.overall.pk): 5},
                               invitation=opened.code)
    Invitation.objects.filter(pk=opened.code.pk).update(used=False)  # as if a racing request had read it unused
    with pytest.raises(actions.SurveyError, match="该邀请码已使用"):
        actions.do_submit_response(opened.survey, answers={(opened.w.tianhe_bureau.pk, opened.overall.pk): 1},
                                   invitation=opened.code)
    assert Response.objects.count() == 1


def test_an_unknown_code_and_a_code_of_another_survey_read_the_same_as_a_used_one(opened, world):
    from .conftest import GROUPS, QUESTIONS

    other = actions.do_create_survey(title="另一次评议", year=2026, region=world.gz, organs=[world.tianhe_bureau],
                                     questions=[dict(q) for q in QUESTIONS], groups=[dict(g) for g in GROUPS])
    foreign = actions.do_generate_invitations(other, group=other.groups.first(), count=1)[0]
    for typed in ("ABCD-EFGH", foreign.code, "not a code"):
        response = _enter_with_code(Client(), opened, typed)
        assert response.status_code == 400 and "邀请码无效或已使用，请核对后重新输入" in response.content.decode()


def test_the_honeypot_filled_in_is_refused_and_nothing_is_stored(opened, client):
    _enter_with_code(client, opened, opened.code.code)
    response = client.post(_url(opened, "answer/"), _form(opened, website="http://spam.example"))
    assert response.status_code == 400 and "提交未通过校验" in response.content.decode()
    assert not Response.objects.exists() and not Invitation.objects.get(pk=opened.code.pk).used


def test_a_form_sent_back_faster_than_a_person_reads_it_is_refused(opened, client):
    _enter_with_code(client, opened, opened.code.code)
    response = client.post(_url(opened, "answer/"), _form(opened, stamp=guard.issue_stamp(time.time() - 1)))
    assert response.status_code == 400 and "提交过快" in response.content.decode()
    forged = client.post(_url(opened, "answer/"), _form(opened, stamp="forged"))
    assert forged.status_code == 400 and "表单已失效" in forged.content.decode()
    assert not Response.objects.exists()


def test_an_answer_without_any_rating_or_with_a_forged_level_is_refused_clearly(opened, client):
    _enter_with_code(client, opened, opened.code.code)
    w = opened.w
    empty = client.post(_url(opened, "answer/"), _form(opened, **{f"a-{w.tianhe_bureau.pk}-{opened.overall.pk}": "",
                                                                  f"a-{w.tianhe_bureau.pk}-{opened.speed.pk}": ""}))
    assert empty.status_code == 400 and "请至少对一个机关作出满意度评价" in empty.content.decode()
    forged = client.post(_url(opened, "answer/"), _form(opened, **{f"a-{w.tianhe_bureau.pk}-{opened.overall.pk}": "9"}))
    assert forged.status_code == 400 and "“总体满意度”的评价等级无效" in forged.content.decode()
    assert not Response.objects.exists()


def test_submissions_from_one_address_are_limited_per_hour(opened, settings):
    settings.XIAONENG_RULES = {"survey_per_address_hour": 2}
    more = actions.do_generate_invitations(opened.survey, group=opened.company, count=3)
    statuses = []
    for inv in more:
        c = Client()
        _enter_with_code(c, opened, inv.code)
        statuses.append(c.post(_url(opened, "answer/"), _form(opened)).status_code)
    assert statuses == [302, 302, 429]
    assert Response.objects.count() == 2


def test_guessing_codes_from_one_address_is_throttled_even_with_a_right_code_afterwards(opened, settings):
    settings.XIAONENG_RULES = {"public_lookup_max_failures": 3}
    c = Client()
    for _i in range(3):
        assert _enter_with_code(c, opened, "ABCD-EFGH").status_code == 400
    blocked = _enter_with_code(c, opened, opened.code.code)
    assert blocked.status_code == 429 and "尝试次数过多" in blocked.content.decode()


def test_the_form_posts_need_the_csrf_token(opened):
    c = Client(enforce_csrf_checks=True)
    assert c.post(_url(opened), {"op": "code", "code": opened.code.code}).status_code == 403
    page = c.get(_url(opened)).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert c.post(_url(opened), {"op": "code", "code": opened.code.code,
                                 "csrfmiddlewaretoken": token}).status_code == 302


def _sent_code() -> str:
    return re.search(r"验证码为 (\d{6})", Message.objects.filter(kind="survey.code").latest("pk").text).group(1)


def test_a_phone_respondent_proves_the_number_by_sms_and_answers_once(opened, django_capture_on_commit_callbacks):
    c = Client()
    with django_capture_on_commit_callbacks(execute=False):
        sent = c.post(_url(opened), {"op": "send", "phone": "138 1234 5678"})
    assert sent.status_code == 200 and "验证码已发送" in sent.content.decode()
    message = Message.objects.get(kind="survey.code")
    assert message.to == "13812345678"
    wrong = c.post(_url(opened), {"op": "verify", "phone": "13812345678", "otp": "000000" if _sent_code() != "000000"
                                  else "111111"})
    assert wrong.status_code == 400 and "验证码不正确或已过期" in wrong.content.decode()
    ok = c.post(_url(opened), {"op": "verify", "phone": "13812345678", "otp": _sent_code()})
    assert ok.status_code == 302
    assert c.post(_url(opened, "answer/"), _form(opened)).status_code == 302
    stored = Response.objects.get()
    assert stored.group == opened.public
    assert list(Ballot.objects.values_list("key", flat=True)) == [f"p:{opened.survey.pk}:{digest('13812345678')}"]

    # The same phone again, in a new browser, after a fresh code: refused by the database's rule.
    c2 = Client()
    with django_capture_on_commit_callbacks(execute=False):
        c2.post(_url(opened), {"op": "send", "phone": "13812345678"})
    told = c2.post(_url(opened), {"op": "verify", "phone": "13812345678", "otp": _sent_code()})
    assert told.status_code == 400 and "该手机号已参加过本次评议" in told.content.decode()
    # And a session that passed the check before the first answer went in is refused by the database's rule.
    session = c2.session
    session[f"survey:{opened.survey.pk}"] = {"phone_digest": digest("13812345678")}
    session.save()
    again = c2.post(_url(opened, "answer/"), _form(opened))
    assert again.status_code == 400 and "该手机号已参加过本次评议" in again.content.decode()
    assert Response.objects.count() == 1


def test_a_one_time_code_dies_after_the_allowed_wrong_tries(opened, settings, django_capture_on_commit_callbacks):
    settings.XIAONENG_RULES = {"survey_sms_code_attempts": 2}
    c = Client()
    with django_capture_on_commit_callbacks(execute=False):
        c.post(_url(opened), {"op": "send", "phone": "13812345678"})
    right = _sent_code()
    wrong = "000000" if right != "000000" else "111111"
    for _i in range(2):
        c.post(_url(opened), {"op": "verify", "phone": "13812345678", "otp": wrong})
    late = c.post(_url(opened), {"op": "verify", "phone": "13812345678", "otp": right})
    assert late.status_code == 400 and "验证码不正确或已过期" in late.content.decode()


def test_sms_codes_are_limited_per_phone(opened, settings, django_capture_on_commit_callbacks):
    settings.XIAONENG_RULES = {"survey_sms_per_phone_day": 2}
    statuses = []
    for _i in range(3):
        with django_capture_on_commit_callbacks(execute=False):
            statuses.append(Client().post(_url(opened), {"op": "send", "phone": "13812345678"}).status_code)
    assert statuses == [200, 200, 429]
    assert Message.objects.filter(kind="survey.code").count() == 2


def test_a_closed_survey_takes_no_more_answers_and_the_public_pages_show_no_counts(opened, client):
    opened.answer({opened.w.tianhe_bureau: 5})
    page = client.get(_url(opened)).content.decode()
    assert "份答卷" not in page and "满意度 " not in page
    _enter_with_code(client, opened, opened.code.code)
    actions.do_close_survey(opened.survey)
    response = client.post(_url(opened, "answer/"), _form(opened))
    assert response.status_code == 302 and Response.objects.count() == 1
    assert "本次评议已结束" in client.get(_url(opened)).content.decode()


def test_the_public_pages_speak_english_too(opened, client):
    client.cookies["django_language"] = "en"
    page = client.get(_url(opened), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Invitation code" in page


def test_a_response_keeps_nothing_that_leads_back_to_its_code_or_phone(opened):
    opened.answer({opened.w.tianhe_bureau: 2})
    assert {f.name for f in Response._meta.concrete_fields} == {"id", "survey", "group", "submitted_on"}
    assert {f.name for f in Ballot._meta.concrete_fields} == {"key", "survey"}
    assert Ballot.objects.count() == Response.objects.count() == 1


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(level=st.text(max_size=12), comment=st.text(max_size=1200))
def test_whatever_a_form_sends_back_is_answered_clearly_never_with_a_server_error(opened, level, comment):
    c = Client()
    code = actions.do_generate_invitations(opened.survey, group=opened.company, count=1)[0]
    _enter_with_code(c, opened, code.code)
    w = opened.w
    response = c.post(_url(opened, "answer/"), _form(opened, **{
        f"a-{w.tianhe_bureau.pk}-{opened.overall.pk}": level, f"a-{w.tianhe_bureau.pk}-{opened.speed.pk}": "",
        f"a-{w.tianhe_bureau.pk}-{opened.comment.pk}": comment}))
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert level.strip() in {"1", "2", "3", "4", "5"}
