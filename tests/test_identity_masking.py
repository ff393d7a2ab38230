"""The organ complained about never reads who complained, in any text: the office's reply
("陈新民同志：您好"), the complaint itself, notes on the timeline, the list and its Excel, the API.
Readers without the identity right read every text masked as Open311 publishes it (陈**, ***);
complaint officers and supervisors read them as written, and their reveal stays audited."""
import io

import pytest
from openpyxl import load_workbook

from xiaoneng.audit.models import AuditEntry
from xiaoneng.complaints import actions as act
from xiaoneng.complaints.identity import Identity
from xiaoneng.complaints.models import Complaint, ComplaintStep
from xiaoneng.supervision.models import SupervisionOrder

NAME, PHONE, ID_NUMBER, ADDRESS, EMAIL = "陈新民", "13912345678", "11010519491231002X", "天河北路88号", "cxm@example.cn"
SECRETS = [NAME, PHONE, ID_NUMBER, ADDRESS, EMAIL]
REPLY = f"{NAME}同志：您好！您反映的窗口推诿问题经核查属实，已责令整改。如有疑问请致电。"


@pytest.fixture
def complaint(world, desk):
    """Named by 陈新民, who signs the complaint; routed to the 天河 bureau, answered by the office."""
    who = Identity.of(name=NAME, phone=PHONE, id_number=ID_NUMBER, address=ADDRESS, email=EMAIL)
    filed, _secret = desk.file(
        complainant=who, title=f"{NAME}反映营业执照窗口推诿",
        content=f"我是{NAME}，住{ADDRESS}，电话{PHONE}，邮箱{EMAIL}。窗口三次让我补材料。")
    act.do_accept(filed, note=f"{NAME}来电补充了材料清单")
    act.do_route(filed, organ=world.tianhe_bureau, note=f"请联系{NAME}核实")
    act.do_request_extension(filed, days=5, reasons="需调取窗口录像")
    request = filed.extension_requests.get()
    act.do_decide_extension(request, approved=True, approver=world.county_supervisor, note=f"同意，尽快答复{NAME}")
    act.do_report_handling(filed, report="经调取录像，窗口确未一次性告知。", result="founded")
    act.do_reply(filed, text=REPLY)
    return Complaint.objects.get(pk=filed.pk)


def page_text(response) -> str:
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        book = load_workbook(io.BytesIO(response.content))
        return "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v)
    return response.content.decode()


@pytest.mark.parametrize("persona", ["county_handler", "county_leader", "auditor"])
def test_a_reader_without_the_identity_right_reads_every_complaint_text_masked(complaint, world, login, persona):
    client = login(getattr(world, persona))
    roads = [f"/complaints/{complaint.pk}/", "/complaints/", "/complaints/?export=xlsx", "/api/v1/complaints/",
             f"/api/v1/complaints/{complaint.pk}/"]
    for url in roads:
        response = client.get(url)
        assert response.status_code == 200, url
        text = page_text(response)
        assert complaint.number in text, url
        assert [s for s in SECRETS if s in text] == [], (persona, url)
    page = page_text(client.get(f"/complaints/{complaint.pk}/"))
    assert "陈**同志：您好！" in page and "陈**反映营业执照窗口推诿" in page and "请联系陈**核实" in page
    assert "同意，尽快答复陈**" in page  # the extension decision's note
    detail = client.get(f"/api/v1/complaints/{complaint.pk}/").json()
    assert detail["reply"].startswith("陈**同志：您好！") and detail["title"] == "陈**反映营业执照窗口推诿"
    assert "住***，电话***，邮箱***" in detail["content"]
    assert any(step["text"] == "陈**来电补充了材料清单" for step in detail["steps"])


def test_searching_for_the_complainant_s_name_finds_nothing_for_the_organ(complaint, world, login):
    client = login(world.county_handler)
    assert complaint.number not in client.get("/complaints/", {"q": NAME}).content.decode()
    assert client.get("/api/v1/complaints/", {"q": NAME}).json()["results"] == []
    assert [r["number"] for r in client.get("/api/v1/complaints/", {"q": "陈**"}).json()["results"]] == [
        complaint.number]
    officer = login(world.complaint_officer)
    assert [r["number"] for r in officer.get("/api/v1/complaints/", {"q": NAME}).json()["results"]] == [complaint.number]


def test_the_complaint_officer_reads_the_texts_as_written(complaint, world, login):
    client = login(world.complaint_officer)
    page = page_text(client.get(f"/complaints/{complaint.pk}/"))
    assert REPLY in page and f"请联系{NAME}核实" in page and f"住{ADDRESS}" in page
    assert client.get(f"/api/v1/complaints/{complaint.pk}/").json()["reply"] == REPLY
    exported = page_text(client.get("/complaints/?export=xlsx"))
    assert f"{NAME}反映营业执照窗口推诿" in exported


def test_an_organ_granted_the_identity_reads_the_texts_as_written_and_reveals_audited(complaint, world, login):
    act.do_grant_identity(complaint, organ=world.tianhe_bureau, reasons="需当面回访", actor=world.county_supervisor)
    client = login(world.county_handler)
    assert REPLY in page_text(client.get(f"/complaints/{complaint.pk}/"))
    assert client.get(f"/api/v1/complaints/{complaint.pk}/").json()["reply"] == REPLY
    revealed = client.post(f"/complaints/{complaint.pk}/reveal/", {"purpose": "当面回访"})
    assert revealed.status_code == 200 and PHONE in revealed.content.decode()
    assert AuditEntry.objects.filter(action="identity.reveal", object_id=str(complaint.pk),
                                     actor_label=world.county_handler.username).exists()


def test_masking_a_text_reads_the_identity_without_showing_it_and_the_read_is_audited(complaint):
    uses = AuditEntry.objects.filter(action="identity.use", object_id=str(complaint.pk))
    assert uses.exists() and all(NAME not in str(e.changes) for e in uses)
    # nothing a reader without the right reads in the audit log names the complainant either
    assert [e.pk for e in AuditEntry.objects.filter(object_id=str(complaint.pk))
            if any(s in f"{e.object_repr} {e.changes}" for s in SECRETS)] == []


def test_a_supervision_order_over_the_complaint_names_nobody(complaint, world):
    act.do_open_order(complaint, demand=f"请于五日内向{NAME}当面说明")
    order = SupervisionOrder.objects.get()
    assert NAME not in order.title and NAME not in order.demand and "陈**" in order.demand


def test_a_text_recorded_before_masking_is_masked_on_its_first_read_and_kept(complaint, world, login):
    Complaint.objects.filter(pk=complaint.pk).update(masked={})
    ComplaintStep.objects.filter(complaint=complaint).update(text_masked="")
    client = login(world.county_handler)
    page = page_text(client.get(f"/complaints/{complaint.pk}/"))
    assert NAME not in page and "陈**同志：您好！" in page
    assert Complaint.objects.get(pk=complaint.pk).masked["reply"].startswith("陈**同志")
    assert not ComplaintStep.objects.filter(complaint=complaint).exclude(text="").filter(text_masked="").exists()
    listed = page_text(client.get("/complaints/?export=xlsx"))
    assert NAME not in listed and complaint.number in listed
