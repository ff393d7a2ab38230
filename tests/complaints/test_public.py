"""The complainant's public pages: filing (with the anti-abuse checks), following up, rating, review."""
import base64
import json
import re
import time
from datetime import timedelta

import altcha
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from xiaoneng.complaints import actions, antibot
from xiaoneng.complaints.models import Complaint, ComplaintStep, Status
from xiaoneng.notify.models import Message

NEW = reverse("complaints-public:new")
TRACK = reverse("complaints-public:track")


@pytest.fixture(autouse=True)
def cheap_proof_of_work(monkeypatch):
    """A proof of work the test solves in milliseconds, and a cache that starts empty."""
    monkeypatch.setattr(antibot, "COST", 10)
    monkeypatch.setattr(antibot, "KEY_PREFIX", "0")
    cache.clear()
    yield
    cache.clear()


def solved(client) -> str:
    challenge = altcha.Challenge.from_dict(client.get(reverse("complaints-public:altcha")).json())
    return altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()


def form_data(client, desk, **overrides):
    data = {
        "category": desk.delay.pk, "province": desk.w.gd.code, "city": desk.w.gz.code, "county": desk.w.tianhe.code,
        "organ": desk.w.tianhe_bureau.pk, "named_organ": "", "title": "营业执照办理拖延",
        "content": "窗口称材料不全但不一次性告知，跑了三趟。", "address_string": "天河路 1 号", "anonymous": "0",
        "name": "李四", "phone": "13912345678", "id_number": "", "address": "天河路 2 号", "email": "",
        "reply_channel": "sms", "website": "", "issued": antibot.issue_stamp(time.time() - 60),
    }
    data["altcha"] = solved(client)
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def page_text(response) -> str:
    return response.content.decode()


# --- the form --------------------------------------------------------------------------
def test_anyone_can_open_the_form_with_active_categories_and_the_province_preselected(client, desk):
    desk.attitude.is_active = False
    desk.attitude.save()
    response = client.get(NEW)
    html = page_text(response)
    assert response.status_code == 200
    assert ">办事拖拉<" in html and ">服务态度<" not in html
    assert f'<option value="{desk.w.gd.code}" selected>' in html
    assert "altcha-widget" in html and 'name="website"' in html and 'name="issued"' in html
    # Nothing loads from elsewhere (a random CSRF token may well contain the letters "cdn").
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)


def test_the_region_selects_offer_the_cities_of_the_province_then_the_counties_and_their_organs(client, desk):
    url = reverse("complaints-public:regions")
    cities = page_text(client.get(url, {"province": desk.w.gd.code}))
    assert "广州市" in cities and "深圳市" in cities and "天河区" not in cities
    counties = page_text(client.get(url, {"province": desk.w.gd.code, "city": desk.w.gz.code}))
    assert "天河区" in counties and "越秀区" in counties and "福田区" not in counties
    organs = page_text(client.get(url, {"province": desk.w.gd.code, "city": desk.w.gz.code,
                                        "county": desk.w.tianhe.code}))
    assert "广州市天河区市场监督管理局" in organs and "深圳市福田区市场监督管理局" not in organs


def test_a_county_from_another_city_is_not_offered(client, desk):
    html = page_text(client.get(reverse("complaints-public:regions"),
                                {"province": desk.w.gd.code, "city": desk.w.gz.code, "county": desk.w.futian.code}))
    assert "福田区" not in html


def test_the_challenge_is_signed_expires_and_is_never_cached(client):
    response = client.get(reverse("complaints-public:altcha"))
    body = response.json()
    assert body["signature"] and body["parameters"]["expiresAt"] > time.time()
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


# --- a good submission -----------------------------------------------------------------
def test_a_good_submission_is_registered_from_the_web_and_shows_code_and_secret_once(client, desk):
    response = client.post(NEW, form_data(client, desk))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.channel == "web" and complaint.region == desk.w.tianhe and complaint.reply_channel == "sms"
    assert complaint.named_organ == "广州市天河区市场监督管理局" and complaint.name_masked == "李*"

    done = client.get(response["Location"])
    html = page_text(done)
    secret = done.context["result"]["secret"]
    assert complaint.number in html and secret in html
    assert actions.check_secret(complaint, secret)
    assert "短信发送" in html
    assert Message.objects.filter(ref=complaint.number, text__contains=secret).exists()
    again = page_text(client.get(response["Location"]))
    assert secret not in again and "只显示一次" in again


def test_an_anonymous_complaint_keeps_no_identity_even_if_one_was_typed(client, desk):
    response = client.post(NEW, form_data(client, desk, anonymous="1", reply_channel="web", organ="",
                                          named_organ="天河区某窗口"))
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    assert complaint.anonymous and complaint.identity_enc == "" and complaint.phone_digest == ""
    assert complaint.reply_channel == "web" and complaint.named_organ == "天河区某窗口"
    assert "短信发送" not in page_text(client.get(response["Location"]))


def test_a_complaint_may_name_only_the_city_when_the_county_is_unknown(client, desk):
    client.post(NEW, form_data(client, desk, county="", organ="", named_organ="广州市某局"))
    assert Complaint.objects.get().region == desk.w.gz


# --- field errors ----------------------------------------------------------------------
@pytest.mark.parametrize("overrides, field, message", [
    ({"phone": "12345"}, "phone", "电话号码格式不正确"),
    ({"title": ""}, "title", "请填写投诉标题"),
    ({"category": ""}, "category", "请选择投诉类别"),
    ({"category": "999999"}, "category", ""),
    ({"organ": "", "named_organ": ""}, "named_organ", "请填写或选择被投诉单位"),
    ({"reply_channel": "email"}, "email", "所选答复方式需要填写电子邮件"),
    ({"reply_channel": "pigeon"}, "reply_channel", ""),
    ({"id_number": "110105194912310021"}, "id_number", "身份证号码校验位不正确"),
    ({"name": "", "phone": "", "reply_channel": "web"}, "name", "至少留下姓名、联系电话或电子邮件"),
    ({"county": "440304000000"}, "county", ""),
])
def test_a_bad_field_comes_back_on_that_field_in_chinese_and_nothing_is_saved(client, desk, overrides, field, message):
    response = client.post(NEW, form_data(client, desk, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert not Complaint.objects.exists()


def test_content_longer_than_the_rule_is_refused_on_the_content_field(client, desk, settings):
    settings.XIAONENG_RULES = {"complaint_max_content_chars": 20}
    response = client.post(NEW, form_data(client, desk, content="拖" * 21))
    assert "content" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_an_organ_outside_the_chosen_region_is_an_invalid_choice(client, desk):
    response = client.post(NEW, form_data(client, desk, organ=desk.w.futian_bureau.pk))
    assert "organ" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_a_form_sent_back_with_errors_gets_a_fresh_stamp_so_the_person_can_keep_typing(client, desk):
    response = client.post(NEW, form_data(client, desk, title=""))
    assert 'name="issued"' in page_text(response)
    assert response.context["form"].data["issued"] != ""


# --- anti-abuse ------------------------------------------------------------------------
def refused(response, text):
    assert response.status_code == 200
    assert text in page_text(response)
    assert not Complaint.objects.exists()


def test_a_submission_without_a_proof_of_work_is_refused(client, desk):
    refused(client.post(NEW, form_data(client, desk, altcha="")), "请先完成人机验证")


def test_a_forged_proof_of_work_is_refused(client, desk):
    payload = json.loads(base64.b64decode(solved(client)))
    payload["challenge"]["parameters"]["keyPrefix"] = ""  # claim an easier puzzle than was signed
    forged = base64.b64encode(json.dumps(payload).encode()).decode()
    refused(client.post(NEW, form_data(client, desk, altcha=forged)), "人机验证未通过")


def test_a_self_made_challenge_signed_with_another_key_is_refused(client, desk):
    challenge = altcha.create_challenge(algorithm="SHA-256", cost=1, key_prefix="0", hmac_secret="guess")
    payload = altcha.Payload(challenge, altcha.solve_challenge(challenge)).to_base64()
    refused(client.post(NEW, form_data(client, desk, altcha=payload)), "人机验证未通过")


@pytest.mark.parametrize("garbage", ["not base64 at all", "e30=", "eyJjaGFsbGVuZ2UiOiAxfQ==", "验证", "A" * 5000])
def test_garbage_instead_of_a_proof_of_work_is_refused_without_an_error_page(client, desk, garbage):
    refused(client.post(NEW, form_data(client, desk, altcha=garbage)), "人机验证")


def test_a_proof_of_work_cannot_be_used_twice(client, desk):
    payload = solved(client)
    assert client.post(NEW, form_data(client, desk, altcha=payload)).status_code == 302
    again = client.post(NEW, form_data(client, desk, altcha=payload, title="另一件事"))
    assert "已使用过" in page_text(again)
    assert Complaint.objects.count() == 1


def test_an_expired_challenge_is_refused(client, desk, monkeypatch):
    monkeypatch.setattr(antibot, "CHALLENGE_SECONDS", -10)
    refused(client.post(NEW, form_data(client, desk)), "人机验证已过期")


def test_a_filled_honeypot_is_refused(client, desk):
    refused(client.post(NEW, form_data(client, desk, website="http://spam.example")), "提交未通过校验")


def test_a_form_sent_faster_than_a_person_can_fill_it_is_refused(client, desk):
    refused(client.post(NEW, form_data(client, desk, issued=antibot.issue_stamp())), "提交过快")


def test_a_form_older_than_two_hours_is_refused(client, desk):
    refused(client.post(NEW, form_data(client, desk, issued=antibot.issue_stamp(time.time() - 2 * 3600 - 5))),
            "超过 2 小时")


@pytest.mark.parametrize("stamp", ["", "1700000000", "eyJhdCI6MX0:forged:sig"])
def test_a_missing_or_forged_form_stamp_is_refused(client, desk, stamp):
    refused(client.post(NEW, form_data(client, desk, issued=stamp)), "表单已失效")


def test_too_many_complaints_from_one_address_get_http_429(client, desk, settings):
    settings.XIAONENG_RULES = {"complaint_web_per_address_hour": 2}
    for i in range(2):
        phone = f"1391234567{i}"
        assert client.post(NEW, form_data(client, desk, phone=phone, title=f"第{i}件")).status_code == 302
    response = client.post(NEW, form_data(client, desk, phone="13912345679"))
    assert response.status_code == 429
    assert "过于频繁" in page_text(response)
    assert Complaint.objects.count() == 2


def test_too_many_complaints_with_one_phone_get_http_429_from_any_address(client, desk, settings):
    settings.XIAONENG_RULES = {"complaint_web_per_phone_day": 1}
    assert client.post(NEW, form_data(client, desk), REMOTE_ADDR="10.0.0.1").status_code == 302
    response = client.post(NEW, form_data(client, desk, phone="139 1234 5678"), REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 429
    assert "该联系电话今天提交的投诉已达上限" in page_text(response)
    assert Complaint.objects.count() == 1


def test_refused_submissions_do_not_use_up_the_address_limit(client, desk, settings):
    settings.XIAONENG_RULES = {"complaint_web_per_address_hour": 1}
    client.post(NEW, form_data(client, desk, altcha=""))
    assert client.post(NEW, form_data(client, desk)).status_code == 302


# --- following up ----------------------------------------------------------------------
@pytest.fixture
def filed(desk):
    complaint, secret = desk.file()
    return complaint, secret


def look_up(client, number, secret, **extra):
    return client.post(TRACK, {"number": number, "secret": secret}, **extra)


def test_a_wrong_secret_and_an_unknown_number_get_the_same_answer(client, filed):
    complaint, _secret = filed
    wrong = look_up(client, complaint.number, "WRONGONE")
    unknown = look_up(client, "TS20990101000000", "WRONGONE")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "投诉编号或查询码不正确" in page_text(wrong)
    assert complaint.title not in page_text(wrong)


def test_guessing_secrets_is_throttled_per_address_even_for_the_right_secret(client, filed, settings):
    settings.XIAONENG_RULES = {"public_lookup_max_failures": 3}
    complaint, secret = filed
    for _i in range(3):
        look_up(client, complaint.number, "WRONGONE")
    response = look_up(client, complaint.number, secret)
    assert response.status_code == 429
    assert "查询尝试次数过多" in page_text(response)
    assert look_up(client, complaint.number, secret, REMOTE_ADDR="10.9.9.9").status_code == 302


def test_the_follow_up_shows_status_public_steps_and_deadline_but_never_who_complained_or_staff(
        client, desk, filed):
    complaint, secret = filed
    actions.do_accept(complaint, note="内部备注：请优先处理")
    actions.do_route(complaint, organ=desk.w.tianhe_bureau, note="请核查窗口人员")
    ComplaintStep.objects.filter(complaint=complaint).update(actor_label="经办人王五")
    actions.do_request_extension(complaint, days=5, reasons="需调取监控录像")

    response = look_up(client, complaint.number, secret.lower())
    assert response.status_code == 302
    html = page_text(client.get(TRACK))
    assert "已转办" in html and "转 广州市天河区市场监督管理局 办理" in html
    assert "前办理完毕" in html and "24:00" in html
    assert "实名" in html
    for secret_thing in ("张三丰", "张*", "138****5678", "13812345678", "天河路1号", "经办人王五",
                         "内部备注", "请核查窗口人员", "需调取监控录像", "申请延期"):
        assert secret_thing not in html, secret_thing


def test_a_registered_complaint_says_when_acceptance_is_due(client, filed):
    complaint, secret = filed
    look_up(client, complaint.number, secret)
    assert "前决定是否受理" in page_text(client.get(TRACK))


def replied(desk, complaint):
    actions.do_accept(complaint)
    actions.do_route(complaint, organ=desk.w.tianhe_bureau)
    actions.do_report_handling(complaint, report="已约谈窗口负责人。", result="founded")
    return actions.do_reply(complaint, text="经核查情况属实，已责令整改并向您致歉。")


def test_a_satisfied_complainant_rates_the_reply_and_the_complaint_closes(client, desk, filed):
    complaint, secret = filed
    replied(desk, complaint)
    look_up(client, complaint.number, secret)
    html = page_text(client.get(TRACK))
    assert "经核查情况属实" in html and "非常满意" in html and "基本满意" in html
    response = client.post(reverse("complaints-public:rate"), {"level": "5", "comment": "很快"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.CLOSED and complaint.satisfaction == 5
    html = page_text(client.get(TRACK))
    assert 'data-testid="rate"' not in html and 'data-testid="appeal"' not in html


def test_a_dissatisfied_complainant_may_ask_for_a_review_once(client, desk, filed):
    complaint, secret = filed
    replied(desk, complaint)
    look_up(client, complaint.number, secret)
    client.post(reverse("complaints-public:rate"), {"level": "2", "comment": "没解决"})
    assert 'data-testid="appeal"' in page_text(client.get(TRACK))
    empty = client.post(reverse("complaints-public:appeal"), {"reasons": "  "})
    assert "请写明申请复核的理由" in page_text(empty)
    response = client.post(reverse("complaints-public:appeal"), {"reasons": "窗口仍未一次性告知"})
    assert response.status_code == 302
    complaint.refresh_from_db()
    assert complaint.status == Status.REVIEW
    html = page_text(client.get(TRACK))
    assert "复核中" in html and 'data-testid="appeal"' not in html
    again = client.post(reverse("complaints-public:appeal"), {"reasons": "再来一次"})
    assert "不能申请复核" in page_text(again)


def test_a_review_cannot_be_asked_after_the_appeal_window(client, desk, filed):
    complaint, secret = filed
    replied(desk, complaint)
    Complaint.objects.filter(pk=complaint.pk).update(replied_at=timezone.now() - timedelta(days=30))
    look_up(client, complaint.number, secret)
    client.post(reverse("complaints-public:rate"), {"level": "1"})
    assert 'data-testid="appeal"' not in page_text(client.get(TRACK))
    response = client.post(reverse("complaints-public:appeal"), {"reasons": "不服"})
    assert "不能申请复核" in page_text(response)
    complaint.refresh_from_db()
    assert complaint.status == Status.REPLIED


@pytest.mark.parametrize("level", ["", "6", "abc", "0"])
def test_a_bad_rating_level_is_refused_on_the_level_field(client, desk, filed, level):
    complaint, secret = filed
    replied(desk, complaint)
    look_up(client, complaint.number, secret)
    response = client.post(reverse("complaints-public:rate"), {"level": level})
    assert "level" in response.context["rate_form"].errors
    complaint.refresh_from_db()
    assert complaint.satisfaction is None


def test_rating_before_the_reply_is_refused(client, filed):
    complaint, secret = filed
    look_up(client, complaint.number, secret)
    response = client.post(reverse("complaints-public:rate"), {"level": "5"})
    assert "只有已答复且尚未评价的投诉可以评价" in page_text(response)


def test_rating_or_appealing_without_a_look_up_goes_back_to_the_look_up(client, desk, filed):
    complaint, _secret = filed
    replied(desk, complaint)
    assert client.post(reverse("complaints-public:rate"), {"level": "1"})["Location"] == TRACK
    assert client.post(reverse("complaints-public:appeal"), {"reasons": "x"})["Location"] == TRACK
    complaint.refresh_from_db()
    assert complaint.satisfaction is None


def test_ending_the_look_up_forgets_the_complaint(client, filed):
    complaint, secret = filed
    look_up(client, complaint.number, secret)
    client.post(reverse("complaints-public:leave"))
    html = page_text(client.get(TRACK))
    assert complaint.number not in html and 'data-testid="track-form"' in html
