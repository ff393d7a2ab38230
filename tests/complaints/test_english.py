"""In English, the complaint centre and the service ratings show no Chinese outside the data.

Every page is read as a complaint officer, a supervisor and a handler would see it, with
complaints in the states that bring out the most labels, hints and action forms; then the
complainant's public pages and Open311 (Accept-Language: en). Data (names of regions and
organs, complaint texts, notes …) stays as entered, so everything the database holds is
stripped before looking for Chinese characters, as tests/test_web_shell.py does.
"""
import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.db import models
from django.urls import reverse

from tests.complaints.test_pages import intake_data
from tests.complaints.test_public import form_data
from xiaoneng.approvals import actions as cases
from xiaoneng.complaints import actions as act
from xiaoneng.complaints import antibot, ratings
from xiaoneng.complaints.identity import Identity

pytestmark = pytest.mark.django_db

CN = ZoneInfo("Asia/Shanghai")
CJK = re.compile(r"[\u4e00-\u9fff]+")
APPS = ("orgs", "approvals", "clocks", "supervision", "complaints", "audit", "notify")


def data_strings() -> list[str]:
    """Every text the database holds, longest first (so a name is removed before its parts)."""
    found = set()
    for model in apps.get_models():
        if model._meta.app_label not in APPS:
            continue
        fields = [f.name for f in model._meta.concrete_fields if isinstance(f, (models.CharField, models.TextField))]
        for row in model.objects.values_list(*fields) if fields else []:
            found.update(v for v in row if isinstance(v, str) and CJK.search(v))
    return sorted(found, key=len, reverse=True)


def chinese_outside_the_data(response) -> list[str]:
    """The Chinese words a page shows that are not data: labels, hints, messages left untranslated."""
    body = response.content.decode()
    if response.get("Content-Type", "").startswith("application/json"):
        body = json.dumps(json.loads(body), ensure_ascii=False)
    body = re.sub(r"<script.*?</script>", " ", body, flags=re.S)
    body = re.sub(r'<span class="brand-mark[^"]*"[^>]*>[^<]*</span>', " ", body)  # the logo's glyph (效, 评)
    labels = re.findall(r'(?:placeholder|aria-label|title|data-request-error)="([^"]*)"', body)
    text = " ".join([re.sub(r"<[^>]+>", " ", body), *labels])
    for value in [*data_strings(), "简体中文"]:  # data, and the other language's own name
        text = text.replace(value, " ")
    return CJK.findall(text)


def assert_english(response, what):
    assert response.status_code in (200, 400, 403, 404, 429), (what, response.status_code)
    body = response.content.decode()
    assert '<html lang="en">' in body or "<html" not in body, what  # a whole page, or an htmx fragment
    left = chinese_outside_the_data(response)
    assert not left, f"{what}: untranslated {left}"


@pytest.fixture
def complaints(desk):
    """One complaint in each state that shows its own forms: registered, routed with an extension
    pending, replied, under review after a dissatisfied rating, not accepted, merged."""
    at = datetime.now(CN) - timedelta(days=2)
    c = type("Complaints", (), {})()
    c.registered, c.secret = desk.file(title="新登记的投诉")
    c.routed, _s = desk.file(title="已转办的投诉", channel="hotline", source_ref="RX-1")
    act.do_accept(c.routed, at=at)
    act.do_route(c.routed, organ=desk.w.tianhe_bureau, at=at)
    act.do_request_extension(c.routed, days=5, reasons="需要现场核查")
    c.review, c.review_secret = desk.file(title="复核中的投诉", category=desk.attitude)
    act.do_accept(c.review, at=at)
    act.do_route(c.review, organ=desk.w.tianhe_bureau, at=at)
    act.do_report_handling(c.review, report="已核实并整改", result="founded")
    act.do_reply(c.review, text="已责令整改")
    c.replied, c.replied_secret = desk.file(title="已答复的投诉", anonymous=True, complainant=None, reply_channel="web")
    act.do_accept(c.replied, at=at)
    act.do_route(c.replied, organ=desk.w.tianhe_bureau, at=at)
    act.do_report_handling(c.replied, report="部分属实", result="partly")
    act.do_reply(c.replied, text="已答复")
    act.do_rate(c.review, level=2, comment="没有解决")
    act.do_appeal(c.review, reasons="答复没有回应诉求")
    c.refused, _s = desk.file(title="不予受理的投诉")
    act.do_not_accept(c.refused, reasons="不属于效能投诉范围")
    c.merged, _s = desk.file(title="重复的投诉")
    act.do_merge(c.merged, into=c.routed)
    return c


@pytest.fixture
def rated(desk, matters):
    """A rated case and a named bad window rating awaiting its call-back."""
    mon = datetime.now(CN) - timedelta(days=1)
    case, _code = cases.do_submit_case(matter=matters.paid, case_no="TH-2026-0900", applicant_name="李四海",
                                       applicant_phone="13900001111", received_at=mon - timedelta(days=10),
                                       verify_code="482913")
    cases.do_accept_case(case, at=mon - timedelta(days=9))
    case = cases.do_decide_case(case, outcome="granted", at=mon - timedelta(hours=2))
    rater = Identity.of(name="李四海", phone="13900001111")
    online = ratings.do_rate_service(kind="online", organ=desk.w.tianhe_bureau, case=case, rater=rater, rated_at=mon,
                                     scores={"overall": 5, "efficiency": 5, "guide": 4, "convenience": 5,
                                             "usability": 4})
    bad = ratings.do_rate_service(kind="offline", organ=desk.w.tianhe_bureau, level=1, window="3号窗口",
                                  scores={"overall": 1, "efficiency": 2, "competence": 2, "attitude": 1},
                                  comment="态度差", rater=rater, rated_at=mon)
    return type("Rated", (), {"online": online, "bad": bad})()


def in_english(client):
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    return client


def staff_pages(c, r):
    pages = [
        reverse("complaints:list"),
        reverse("complaints:list") + "?deadline=overdue&status=routed&q=x",
        reverse("complaints:intake"),
        reverse("complaints:stats"),
        reverse("ratings:list"),
        reverse("ratings:list") + "?bad=1",
        reverse("ratings:stats"),
        reverse("ratings:detail", args=[r.online.pk]),
        reverse("ratings:detail", args=[r.bad.pk]),
    ]
    for complaint in (c.registered, c.routed, c.review, c.replied, c.refused, c.merged):
        pages.append(reverse("complaints:detail", args=[complaint.pk]))
    return pages


@pytest.mark.parametrize("persona", ["complaint_officer", "county_supervisor", "city_supervisor", "county_handler"])
def test_the_staff_pages_are_all_english_for_each_role(desk, complaints, rated, login, persona):
    client = in_english(login(getattr(desk.w, persona)))
    seen = 0
    for url in staff_pages(complaints, rated):
        response = client.get(url)
        assert_english(response, f"{persona} {url}")
        seen += response.status_code == 200
    assert seen >= 5  # each role reads most of these pages, not just refusals


def test_an_empty_intake_and_empty_action_forms_answer_in_english(desk, complaints, login):
    client = in_english(login(desk.w.complaint_officer))
    response = client.post(reverse("complaints:intake"), {})
    assert response.status_code in (200, 400)
    assert_english(response, "intake errors")
    for action in ("accept", "not_accept", "route", "merge"):
        response = client.post(reverse("complaints:act", args=[complaints.registered.pk, action]), {},
                               HTTP_HX_REQUEST="true")
        assert_english(response, f"action {action}")
    handler = in_english(login(desk.w.county_handler))
    for action in ("report", "send_back", "extension"):
        response = handler.post(reverse("complaints:act", args=[complaints.routed.pk, action]), {},
                                HTTP_HX_REQUEST="true")
        assert_english(response, f"action {action}")
    supervisor = in_english(login(desk.w.county_supervisor))
    for complaint, action in ((complaints.routed, "decide_extension"), (complaints.review, "review"),
                              (complaints.routed, "grant_identity"), (complaints.routed, "order")):
        response = supervisor.post(reverse("complaints:act", args=[complaint.pk, action]), {},
                                   HTTP_HX_REQUEST="true")
        assert_english(response, f"action {action}")


def test_the_registered_page_of_an_intake_is_english(desk, login):
    client = in_english(login(desk.w.complaint_officer))
    response = client.post(reverse("complaints:intake"), intake_data(desk), follow=True)
    assert response.status_code == 200 and "query code" in response.content.decode()
    assert_english(response, "intake done")


def test_the_page_after_filing_is_english_the_first_time_and_after(client, desk, monkeypatch):
    monkeypatch.setattr(antibot, "COST", 10)  # a proof of work the test solves in milliseconds
    monkeypatch.setattr(antibot, "KEY_PREFIX", "0")
    client = in_english(client)
    response = client.post(reverse("complaints-public:new"), form_data(client, desk))
    assert response.status_code == 302
    first = client.get(response["Location"])
    assert "Your complaint has been submitted" in first.content.decode()
    assert_english(first, "filed")
    assert_english(client.get(response["Location"]), "filed, shown again")


def test_the_complainants_public_pages_are_english(client, desk, complaints):
    client = in_english(client)
    assert_english(client.get(reverse("complaints-public:new")), "public form")
    assert_english(client.post(reverse("complaints-public:new"), {}), "public form errors")
    assert_english(client.get(reverse("complaints-public:regions"),
                              {"province": desk.w.gd.code, "city": desk.w.gz.code}), "region fields")
    track = reverse("complaints-public:track")
    assert_english(client.get(track), "follow-up look-up")
    assert_english(client.post(track, {"number": complaints.registered.number, "secret": "WRONG123"}), "wrong code")
    for complaint, secret in ((complaints.registered, complaints.secret), (complaints.replied, complaints.replied_secret),
                              (complaints.review, complaints.review_secret)):
        assert client.post(track, {"number": complaint.number, "secret": secret}).status_code == 302
        assert_english(client.get(track), f"follow-up of {complaint.title}")
    assert_english(client.post(reverse("complaints-public:rate"), {}, follow=True), "empty rating")


def test_the_public_rating_pages_are_english(client, desk, rated):
    client = in_english(client)
    assert_english(client.get(reverse("ratings:public-case")), "rate a case")
    assert_english(client.post(reverse("ratings:public-case"), {"case_no": "TH-2026-0900", "code": "x"}),
                   "rate a case, wrong code")
    assert_english(client.get(reverse("ratings:public-window", args=[desk.w.tianhe_bureau.pk, "3号窗口"])),
                   "rate a window")
    assert_english(client.get(reverse("ratings:public-thanks")), "thanks")


@pytest.mark.parametrize("path", ["discovery.json", "discovery.xml", "services.json", "services/delay.json",
                                  "requests.json", "services/nothing.json", "requests.csv"])
def test_open311_answers_an_english_client_in_english(client, desk, complaints, path):
    response = client.get(f"/open311/v2/{path}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code in (200, 400, 404)
    left = chinese_outside_the_data(response)
    assert not left, f"{path}: untranslated {left}"
