"""The public 问责通报 page: only decisions announced to the public, only what such an announcement
says, names masked as configured, revoked decisions replaced by the clearing of the name; no login."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.accountability.conftest import at
from xiaoneng.accountability import actions, public
from xiaoneng.accountability.models import Appeal, Responsibility, Tolerance

pytestmark = pytest.mark.django_db

LIST = "/public/accountability/"


def announced(acct, number, *, public_scope=True, scope="向社会公开", people=None, findings=None):
    case = acct.register("2026-03-02T10:00")
    parties = [actions.do_add_party(case, staff=s, responsibility=Responsibility.DIRECT) for s in (people or [acct.zhang])]
    actions.do_record_findings(case, findings="经查属实", at=at("2026-03-02T10:00"))
    for step in (lambda p: actions.do_notify_party(p, measure="warning", at=at("2026-03-02T10:00")),
                 lambda p: actions.do_record_statement(p, statement="本人对事实无异议", at=at("2026-03-02T10:00")),
                 lambda p: actions.do_review_tolerance(p, situations=[], outcome=Tolerance.NONE, at=at("2026-03-02T10:00"))):
        for p in parties:
            step(p)
    case.refresh_from_db()
    actions.do_decide_case(case, decider="王局长", decision_number=number,
                           measures={p.pk: (["warning"], None) for p in parties}, at=at("2026-03-02T10:00"))
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    if findings:
        case.findings = findings
        case.save(update_fields=["findings"])
    actions.do_announce_case(case, scope=scope, public=public_scope, at=at("2026-03-04T10:00"))
    case.refresh_from_db()
    return case, [type(p).objects.get(pk=p.pk) for p in parties]


def revoke(party, when="2026-03-20T10:00"):
    appeal = actions.do_lodge_appeal(party, kind="review", grounds="不服", received_at=at("2026-03-10T10:00"))
    actions.do_decide_appeal(appeal, outcome=Appeal.Outcome.REVOKED, reasons="事实不清", at=at(when))


def test_the_page_is_linked_from_the_portal_and_needs_no_login(acct, client):
    assert reverse("accountability-public:list") == LIST
    assert LIST in client.get(reverse("portal:home")).content.decode()
    response = client.get(LIST)
    assert response.status_code == 200 and "暂无向社会公开的问责通报" in response.content.decode()


def test_a_decision_announced_internally_never_appears(acct, client):
    internal, _ = announced(acct, "天效问〔2026〕1号", public_scope=False, scope="天河区市场监督管理局内部")
    # Words in the scope do not make it public: only the announcement's own choice does.
    worded, _ = announced(acct, "天效问〔2026〕2号", public_scope=False, scope="不向社会公开")
    unannounced, _ = acct.decided("2026-03-02T10:00", number="天效问〔2026〕3号")
    html = client.get(LIST).content.decode()
    for case in (internal, worded, unannounced):
        assert case.number not in html and case.decision_number not in html
        assert client.get(f"{LIST}{case.number}/").status_code == 404
    assert "data-testid=\"public-notice\"" not in html


def test_a_public_decision_shows_the_notice_with_the_names_masked_in_the_facts_too(acct, client):
    case, _ = announced(acct, "天效问〔2026〕5号", findings="经查，张三经办的办件超过法定时限。")
    html = client.get(LIST).content.decode()
    assert case.number in html and "张某（直接责任）：警告（处分期6个月）" in html and "天效问〔2026〕5号" in html
    detail = client.get(f"{LIST}{case.number}/").content.decode()
    assert "张某经办的办件超过法定时限" in detail and "广州市天河区市场监督管理局" in detail
    for hidden in ("张三", "一级科员", "本人对事实无异议", "王局长"):  # name, rank, statement, decider: not announced
        assert hidden not in html and hidden not in detail, hidden


def test_the_names_are_shown_in_full_when_the_province_says_so(acct, client, settings):
    settings.XIAONENG_RULES = {"accountability_public_mask_names": False}
    case, _ = announced(acct, "天效问〔2026〕6号")
    assert "张三（直接责任）：警告" in client.get(f"{LIST}{case.number}/").content.decode()


def test_a_revoked_decision_disappears_and_the_clearing_of_the_name_is_shown_instead(acct, client, settings):
    settings.XIAONENG_RULES = {"accountability_public_mask_names": False}
    case, (zhang, li) = announced(acct, "天效问〔2026〕7号", people=[acct.zhang, acct.li],
                                  findings="经查，张三、李四推诿群众。")
    revoke(zhang)
    detail = client.get(f"{LIST}{case.number}/").content.decode()
    assert "李四（直接责任）：警告" in detail and "张三（直接责任）" not in detail
    # The person cleared is never named in full again, not even in the facts.
    assert "张三" not in detail and "张某、李四推诿群众" in detail
    assert "撤销对张某的问责决定（天效问〔2026〕7号），在原公布范围内为其恢复名誉、消除影响" in detail
    assert "经复核" in detail and "第六十条" in detail
    revoke(li, when="2026-03-21T10:00")
    detail = client.get(f"{LIST}{case.number}/").content.decode()
    assert "警告" not in detail and "推诿群众" not in detail  # the decision is gone; only the clearing remains
    assert "撤销对李四的问责决定" not in detail and "撤销对李某的问责决定" in detail
    listed = client.get(LIST).content.decode()
    assert "撤销问责决定（天效问〔2026〕7号）" in listed and "警告" not in listed


def test_a_revocation_of_an_internal_decision_is_not_made_public(acct, client):
    case, (zhang,) = announced(acct, "天效问〔2026〕8号", public_scope=False, scope="局内部")
    revoke(zhang)
    assert case.decision_number not in client.get(LIST).content.decode()
    assert client.get(f"{LIST}{case.number}/").status_code == 404


def test_unknown_numbers_are_the_public_404(acct, client):
    for bad in ("WZ2026010100000", "1", "x" * 80):
        response = client.get(f"{LIST}{bad}/")
        assert response.status_code == 404 and "portal" in " ".join(t.name for t in response.templates)


def test_the_list_is_paged_newest_first_in_a_fixed_number_of_queries(acct, client, monkeypatch):
    monkeypatch.setattr(public, "PER_PAGE", 2)
    first, _ = announced(acct, "天效问〔2026〕11号")
    with CaptureQueriesContext(connection) as one:
        client.get(LIST)
    second, _ = announced(acct, "天效问〔2026〕12号", people=[acct.zhang, acct.li])
    third, _ = announced(acct, "天效问〔2026〕13号")
    with CaptureQueriesContext(connection) as two:
        page1 = client.get(LIST).content.decode()
    # The count, the cases, their persons, the revoking appeals: however many notices and persons.
    assert len(two.captured_queries) == len(one.captured_queries) == 4
    page2 = client.get(LIST, {"page": 2}).content.decode()
    assert first.number not in page1 and first.number in page2 and third.number in page1 and second.number in page1
    assert "第 2 / 2 页" in page2
    assert client.get(LIST, {"page": "abc"}).status_code == 200


def test_the_english_page_translates_everything_but_the_notice(acct, client):
    import re

    case, _ = announced(acct, "天效问〔2026〕21号")
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    html = client.get(LIST).content.decode()
    assert "Accountability notices" in html
    html = client.get(f"{LIST}{case.number}/").content.decode()
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", " ", html, flags=re.S))
    for data in sorted({"广州市天河区党政机关效能建设办公室", "广州市天河区市场监督管理局", case.title, case.findings,
                        "天效问〔2026〕21号", "张某", "直接责任", "警告（处分期6个月）", "效", "简体中文"}, key=len, reverse=True):
        text = text.replace(data, " ")
    assert not re.findall(r"[\u4e00-\u9fff]+", text), re.findall(r"[\u4e00-\u9fff]+", text)


def test_the_announce_form_records_whether_the_announcement_is_public(acct, login, client):
    case, _ = acct.decided("2026-03-02T10:00", number="天效问〔2026〕31号")
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    staff = login(acct.world.county_supervisor)
    url = reverse("accountability:case-act", args=[case.pk, "announce"])
    response = staff.post(url, {"rev": str(case.steps.count()), "scope": "向社会公开", "public": "on"})
    case.refresh_from_db()
    assert response.status_code == 302 and case.announcement_public and case.status == "announced"
    assert 'data-testid="announced-public"' in staff.get(reverse("accountability:case", args=[case.pk])).content.decode()
    staff.logout()
    assert case.number in client.get(LIST).content.decode()
