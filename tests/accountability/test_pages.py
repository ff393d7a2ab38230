"""The accountability pages: a case driven through its forms, errors on fields, nobody outside sees anything."""
import io
import re

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from tests.conftest import make_user
from xiaoneng.accountability import actions
from xiaoneng.accountability.models import Case, Party, Proposal, Status
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db


def act(client, case, action, data):
    rev = str(case.steps.count())
    return client.post(reverse("accountability:case-act", args=[case.pk, action]), {"rev": rev, **data})


def xlsx_rows(response):
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)).active
    return list(sheet.iter_rows(values_only=True))


def test_a_supervisor_takes_a_proposal_to_a_filed_decision_through_the_pages(acct, login):
    world = acct.world
    client = login(world.county_supervisor)
    proposal = actions.do_propose_accountability(source="inspection", organ=world.tianhe_bureau, title="审计发现超时办件",
                                                 reason="审计发现 12 件超过法定时限")
    page = client.get(reverse("accountability:proposal", args=[proposal.pk]))
    assert page.status_code == 200 and "审计发现 12 件超过法定时限" in page.content.decode()
    response = client.post(reverse("accountability:proposal-act", args=[proposal.pk, "register"]),
                           {"rev": "open", "deciding_organ": acct.office.pk, "case_title": ""})
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("accountability:case", args=[case.pk])
    assert act(client, case, "add_party", {"staff": acct.zhang.pk, "responsibility": "direct"}).status_code == 302
    assert act(client, case, "findings", {"findings": "经查，张三负责的 12 件超时"}).status_code == 302
    party = Party.objects.get()
    assert act(client, case, "notify", {"party": party.pk, "measure": "warning"}).status_code == 302
    assert act(client, case, "statement", {"party": party.pk, "statement": "", "waived": "on"}).status_code == 302
    assert act(client, case, "tolerance", {"party": party.pk, "outcome": "none", "reason": ""}).status_code == 302
    # A heavier measure than notified: an error on the page, nothing decided.
    response = act(client, case, "decide", {"decider": "王局长", "decision_number": "天效问〔2026〕3号",
                                            f"measure_{party.pk}": "demerit", f"count_{party.pk}": 1})
    assert response.status_code == 200 and "第四十三条" in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.REVIEWED and not case.decision_number
    assert act(client, case, "decide", {"decider": "王局长", "decision_number": "天效问〔2026〕3号",
                                        f"measure_{party.pk}": "warning", f"count_{party.pk}": 1}).status_code == 302
    assert act(client, case, "serve", {}).status_code == 302
    assert act(client, case, "file", {"filed_with": "天河区监察委员会"}).status_code == 302
    case.refresh_from_db()
    assert case.status == Status.FILED
    html = client.get(reverse("accountability:case", args=[case.pk])).content.decode()
    assert "天效问〔2026〕3号" in html and "警告" in html and 'data-kind="accountability.filing"' in html
    assert AuditEntry.objects.filter(action="accountability.read", object_id=str(case.pk)).exists()


def test_bad_input_gets_a_field_error_and_changes_nothing(acct, login):
    client = login(acct.world.county_supervisor)
    case = acct.register()
    response = act(client, case, "findings", {"findings": "   "})
    assert response.status_code == 200
    assert re.search(r'data-testid="field-error">调查认定的事实：', response.content.decode())
    response = act(client, case, "add_party", {"staff": "", "responsibility": "direct"})
    assert response.status_code == 200 and "请选择一名责任人或一个责任单位" in response.content.decode()
    response = act(client, case, "add_party", {"staff": acct.zhang.pk, "responsibility": "nonsense"})
    assert response.status_code == 200 and 'data-testid="field-error"' in response.content.decode()
    case.refresh_from_db()
    assert case.status == Status.REGISTERED and not case.parties.exists()
    # An action the state does not offer is refused on the form, not a 500.
    response = act(client, case, "serve", {})
    assert response.status_code == 200 and "不能执行" in response.content.decode()


def test_a_stale_form_does_not_act_twice(acct, login):
    client = login(acct.world.county_supervisor)
    case = acct.register()
    data = {"rev": str(case.steps.count()), "staff": acct.zhang.pk, "responsibility": "direct"}
    url = reverse("accountability:case-act", args=[case.pk, "add_party"])
    assert client.post(url, data).status_code == 302
    response = client.post(url, {**data, "staff": acct.li.pk})
    assert response.status_code == 200 and "重复提交" in response.content.decode()
    assert case.parties.count() == 1


@pytest.mark.parametrize("persona", ["county_handler", "county_leader", "auditor", "appraisal_officer", "shenzhen",
                                     "complaint_officer"])
def test_an_outsider_sees_nothing_on_pages_exports_or_actions(acct, login, persona):
    world = acct.world
    case, _parties = acct.decided()
    proposal = Proposal.objects.get()
    user = make_user("sz_supervisor", Role.SUPERVISOR, region=world.sz) if persona == "shenzhen" else getattr(world, persona)
    client = login(user)
    for name in ("accountability:cases", "accountability:proposals"):
        response = client.get(reverse(name))
        assert response.status_code == 200
        assert response.context["page"].paginator.count == 0
        assert case.number not in response.content.decode() and proposal.title not in response.content.decode()
        rows = xlsx_rows(client.get(reverse(name), {"export": "xlsx"}))
        assert len(rows) == 1  # the header only
    assert client.get(reverse("accountability:case", args=[case.pk])).status_code == 404
    assert client.get(reverse("accountability:proposal", args=[proposal.pk])).status_code == 404
    assert client.post(reverse("accountability:case-act", args=[case.pk, "serve"]), {"rev": "x"}).status_code == 404
    case.refresh_from_db()
    assert case.status == Status.DECIDED
    assert not AuditEntry.objects.filter(action="accountability.read").exists()


def test_supervisors_above_see_the_case_and_the_export_holds_it(acct, login):
    case, _parties = acct.decided()
    client = login(acct.world.province_supervisor)
    response = client.get(reverse("accountability:cases"))
    assert response.context["page"].paginator.count == 1
    rows = xlsx_rows(client.get(reverse("accountability:cases"), {"export": "xlsx"}))
    assert rows[1][0] == case.number and rows[1][9] == "天效问〔2026〕1号"
    assert client.get(reverse("accountability:case", args=[case.pk])).status_code == 200


def test_the_case_list_filters_by_status(acct, login):
    decided, _ = acct.decided()
    registered = acct.register("2026-04-01T10:00")
    client = login(acct.world.city_supervisor)
    response = client.get(reverse("accountability:cases"), {"status": "registered"})
    assert [c.pk for c in response.context["rows"]] == [registered.pk]
    response = client.get(reverse("accountability:cases"), {"region": "440304000000"})  # outside the scope
    assert response.context["page"].paginator.count == 0  # nothing, never a widened list


def test_the_case_list_gives_the_decision_deadline_in_the_laws_form(acct, login):
    acct.register("2026-01-15T10:00")  # six months: the last day is 15 July, due 2026-07-16 00:00
    page = login(acct.world.city_supervisor).get(reverse("accountability:cases")).content.decode()
    assert "2026-07-15 24:00" in page and "2026-07-16" not in page


def test_english_pages_leave_no_chinese_outside_the_data(acct, login):
    case, (zhang,) = acct.decided()
    proposal = Proposal.objects.get()
    client = login(acct.world.county_supervisor)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    from xiaoneng.orgs.models import Organ, Region

    data = sorted({*Region.objects.values_list("name", flat=True), *Organ.objects.values_list("name", flat=True),
                   case.title, case.findings, case.decision_number, case.decider, zhang.name, zhang.rank,
                   proposal.title, proposal.reason, "本人对事实无异议", "2026-02-27 窗口 3 号",
                   "暗访视频截图", "效", "简体中文"}, key=len, reverse=True)
    for url in (reverse("accountability:cases"), reverse("accountability:case", args=[case.pk]),
                reverse("accountability:proposals"), reverse("accountability:proposal", args=[proposal.pk]),
                reverse("accountability:proposal-new")):
        html = client.get(url).content.decode()
        html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
        text = re.sub(r"<[^>]+>", " ", html)
        for name in data:
            text = text.replace(name, " ")
        assert not re.findall(r"[\u4e00-\u9fff]+", text), (url, re.findall(r"[\u4e00-\u9fff]+", text))


def test_a_supervisor_registers_a_proposal_by_hand_and_bad_input_gets_field_errors(acct, login):
    world = acct.world
    client = login(world.county_supervisor)
    url = reverse("accountability:proposal-new")
    response = client.post(url, {"source": "order_failed", "organ": world.tianhe_bureau.pk, "title": "督办逾期",
                                 "reason": "督办逾期未反馈", "document": "", "document_text": ""})
    assert response.status_code == 200
    assert re.search(r'data-testid="field-error">督办：督办未落实须指明督办', response.content.decode())
    response = client.post(url, {"source": "red_card", "organ": world.sz_bureau.pk, "title": "", "reason": ""})
    html = response.content.decode()
    for label in ("来源", "涉及机关", "事由", "问责建议理由"):
        assert re.search(rf'data-testid="field-error">{label}：', html), label
    assert not Proposal.objects.exists()
    response = client.post(url, {"source": "media", "organ": world.tianhe_bureau.pk, "title": "暗访窗口推诿",
                                 "reason": "暗访视频", "document": "视频截图", "document_text": "3 号窗口"})
    proposal = Proposal.objects.get()
    assert response["Location"] == reverse("accountability:proposal", args=[proposal.pk])
    assert [e.label for e in proposal.evidence.all()] == ["视频截图"]
    # Nobody without the permission reaches the form.
    assert login(world.county_handler).get(url).status_code == 404
