"""登记办件: a handler registers an application with its materials, then accepts it or asks for corrections.

Also the two guards at entry: no decision while a step is open, no fee on a free matter or above the standard.
"""
import json
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import include, path, reverse
from django.utils import timezone

import xiaoneng.urls
from xiaoneng.approvals import actions
from xiaoneng.approvals.models import Case, CaseApplicant, CaseEvent, CaseMaterial, CaseNumberSequence
from xiaoneng.approvals.views import revision

urlpatterns = [
    path("cases/", include("xiaoneng.approvals.urls")),
    *xiaoneng.urls.urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)

SH = ZoneInfo("Asia/Shanghai")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PERSON_ID = "11010519491231002X"  # GB 11643 check character X
SCANNED: list[str] = []


def refuse_everything(name, data):
    """A virus-scan hook that finds something in every file."""
    SCANNED.append(name)
    return "检出病毒 Eicar-Test-Signature"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def stored_files(media) -> list[Path]:
    return [p for p in Path(media).rglob("*") if p.is_file()]


def form_data(**overrides):
    data = {"applicant_kind": "person", "applicant_name": "张三丰", "applicant_code": PERSON_ID,
            "applicant_phone": "13800001234", "case_no": "", "correction_items": "",
            "m0_ok": "on", "m0_file": SimpleUploadedFile("申请书.pdf", PDF, content_type="application/pdf"),
            "m1_ok": "on", "decision": "accept"}
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def register(client, matter, **overrides):
    return client.post(f"{reverse('approvals:register')}?matter={matter.pk}", form_data(**overrides))


def errors(response) -> str:
    return response.content.decode()


# --- the page -------------------------------------------------------------------------------
def test_the_register_page_lists_the_materials_the_current_version_requires(world, matters, login):
    client = login(world.county_handler)
    first = client.get(reverse("approvals:register"))
    assert first.status_code == 200
    offered = {m.code for m in first.context["chooser"].fields["matter"].queryset}
    assert offered == {"440106-SP-001", "440106-SP-002"}  # the 天河 bureau's own matters only
    page = client.get(f"{reverse('approvals:register')}?matter={matters.licence.pk}")
    assert [name for name, _ok, _file in page.context["form"].rows()] == ["食品经营许可申请书", "营业执照复印件"]


def test_a_handler_of_another_organ_cannot_register_on_this_organs_matter(world, matters, login):
    client = login(world.shenzhen_handler)
    response = register(client, matters.licence)
    assert response.status_code == 200 and response.context["form"] is None  # the matter is not a valid choice
    assert not Case.objects.exists()


def test_only_handlers_register_cases(world, matters, login):
    assert login(world.county_supervisor).get(reverse("approvals:register")).status_code == 403


def test_a_handler_registers_a_person_with_a_scanned_material_and_accepts_the_case(world, matters, login, media):
    client = login(world.county_handler)
    response = register(client, matters.licence)
    assert response.status_code == 302, errors(response)
    case = Case.objects.get()
    assert response["Location"] == reverse("approvals:case", args=[case.pk])
    assert case.status == "accepted" and case.applicant_name == "张三丰" and case.applicant_phone == "13800001234"
    assert case.organ == world.tianhe_bureau and case.matter_version == matters.licence.current
    applicant = CaseApplicant.objects.get(case=case)
    assert (applicant.kind, applicant.code) == ("person", "110105********002X")  # the ID is kept masked
    material = CaseMaterial.objects.get(case=case)
    assert (material.name, material.content_type, material.size) == ("食品经营许可申请书", "application/pdf", len(PDF))
    assert material.uploaded_by == world.county_handler and material.original_name == "申请书.pdf"
    on_disk = Path(material.file.path)
    assert on_disk.read_bytes() == PDF and on_disk.is_relative_to(media)
    assert "申请书" not in on_disk.name and len(on_disk.stem) == 32  # a random name
    page = client.get(reverse("approvals:case", args=[case.pk]))
    link = reverse("approvals:material", args=[case.pk, material.pk])
    assert link in page.content.decode() and "110105********002X" in page.content.decode()
    assert "<td>PDF</td>" in page.content.decode() and "application/pdf" not in page.content.decode()
    assert "受理通知书" in {str(kind.title) for kind in page.context["issuable"]}
    download = client.get(link)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf" and "attachment" in download["Content-Disposition"]


def test_an_organisation_registers_with_its_credit_code(world, matters, login):
    client = login(world.county_handler)
    code = world.gz_bureau.credit_code
    response = register(client, matters.licence, applicant_kind="organisation", applicant_name="某某餐饮有限公司",
                        applicant_code=code.lower())
    assert response.status_code == 302, errors(response)
    assert CaseApplicant.objects.get().code == code


def test_case_numbers_are_generated_per_organ_and_year_skipping_a_number_already_taken(world, matters, login):
    client = login(world.county_handler)
    organ_code = world.tianhe_bureau.credit_code[8:17]
    year = timezone.localtime().year
    actions.do_submit_case(matter=matters.licence, case_no=f"{organ_code}-{year}-00002", applicant_name="手工编号")
    for _ in range(2):
        assert register(client, matters.licence).status_code == 302
    generated = sorted(Case.objects.filter(applicant_name="张三丰").values_list("case_no", flat=True))
    assert generated == [f"{organ_code}-{year}-00001", f"{organ_code}-{year}-00003"]
    assert CaseNumberSequence.objects.get(organ=world.tianhe_bureau, year=year).last == 3


def test_a_typed_case_number_is_kept_and_a_duplicate_is_refused(world, matters, login, media):
    client = login(world.county_handler)
    assert register(client, matters.licence, case_no="TH-窗口-0001").status_code == 302
    again = register(client, matters.licence, case_no="TH-窗口-0001")
    assert again.status_code == 200 and "办件编号 TH-窗口-0001 已存在" in errors(again)
    assert Case.objects.count() == 1 and CaseMaterial.objects.count() == 1 and len(stored_files(media)) == 1


# --- validation: nothing is written --------------------------------------------------------------
def assert_nothing_written(media):
    assert not Case.objects.exists() and not CaseMaterial.objects.exists() and not CaseApplicant.objects.exists()
    assert stored_files(media) == []


def test_it_refuses_a_resident_id_with_a_wrong_check_digit(world, matters, login, media):
    response = register(login(world.county_handler), matters.licence, applicant_code="110105194912310021")
    assert response.status_code == 200 and "身份证号码校验位不正确" in errors(response)
    assert_nothing_written(media)


def test_it_refuses_a_credit_code_with_a_wrong_check_character(world, matters, login, media):
    code = world.gz_bureau.credit_code
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = register(login(world.county_handler), matters.licence, applicant_kind="organisation",
                        applicant_name="某某公司", applicant_code=wrong)
    assert response.status_code == 200 and "统一社会信用代码校验位错误" in errors(response)
    assert_nothing_written(media)


def test_it_refuses_an_executable_disguised_as_a_pdf_by_its_name(world, matters, login, media):
    fake = SimpleUploadedFile("申请书.pdf", b"MZ\x90\x00\x03" + b"\x00" * 100, content_type="application/pdf")
    response = register(login(world.county_handler), matters.licence, m0_file=fake)
    assert response.status_code == 200
    assert "只接受 PDF、JPEG、PNG、OFD 文件（按文件内容识别，与扩展名无关）" in errors(response)
    assert_nothing_written(media)


def test_a_png_named_pdf_is_stored_as_what_it_is(world, matters, login):
    png = SimpleUploadedFile("照片.pdf", PNG, content_type="application/pdf")
    assert register(login(world.county_handler), matters.licence, m0_file=png).status_code == 302
    material = CaseMaterial.objects.get()
    assert material.content_type == "image/png" and material.file.name.endswith(".png")


def test_it_refuses_a_file_above_the_configured_size(world, matters, login, media, settings):
    settings.XIAONENG_RULES = {"case_material_max_bytes": 64}
    response = register(login(world.county_handler), matters.licence)
    assert response.status_code == 200 and "文件过大" in errors(response) and "64 B" in errors(response)
    assert_nothing_written(media)


def test_a_file_the_virus_scan_refuses_is_a_form_error_and_never_stored(world, matters, login, media, settings):
    settings.XIAONENG_VIRUS_SCAN = f"{__name__}.refuse_everything"
    SCANNED.clear()
    response = register(login(world.county_handler), matters.licence)
    assert response.status_code == 200
    assert "未通过病毒查杀：检出病毒 Eicar-Test-Signature" in errors(response)
    assert SCANNED == ["申请书.pdf"]
    assert_nothing_written(media)


def test_a_failure_after_the_files_were_written_leaves_no_case_and_no_file(world, matters, login, media, monkeypatch):
    def broken(case, **kwargs):
        raise actions.CaseError("受理失败（测试）", "status")

    monkeypatch.setattr(actions, "do_accept_case", broken)
    response = register(login(world.county_handler), matters.licence)
    assert response.status_code == 200 and "受理失败（测试）" in errors(response)
    assert_nothing_written(media)


def test_a_bad_phone_is_refused(world, matters, login, media):
    response = register(login(world.county_handler), matters.licence, applicant_phone="12345")
    assert response.status_code == 200 and "电话号码格式不正确" in errors(response)
    assert_nothing_written(media)


# --- acceptance or correction --------------------------------------------------------------------
def test_it_will_not_accept_while_a_material_is_missing(world, matters, login, media):
    response = register(login(world.county_handler), matters.licence, m1_ok=None)
    assert response.status_code == 200 and "材料不齐全，不能受理：缺少营业执照复印件" in errors(response)
    assert_nothing_written(media)


def test_the_correction_notice_lists_the_unticked_materials_at_once(world, matters, login):
    client = login(world.county_handler)
    response = register(client, matters.licence, m0_ok=None, m0_file=None, m1_ok=None, decision="correction")
    assert response.status_code == 302, errors(response)
    case = Case.objects.get()
    assert case.status == "correction_requested"
    notice = CaseEvent.objects.get(case=case, kind="correction")
    assert notice.data["items"] == ["食品经营许可申请书", "营业执照复印件"]
    page = client.get(reverse("approvals:case", args=[case.pk]))
    assert "补正材料告知书" in {str(kind.title) for kind in page.context["issuable"]}


def test_a_typed_correction_list_is_used_as_typed(world, matters, login):
    client = login(world.county_handler)
    response = register(client, matters.licence, m1_ok=None, decision="correction",
                        correction_items="营业执照复印件（须加盖公章）\n法定代表人身份证明")
    assert response.status_code == 302, errors(response)
    assert CaseEvent.objects.get(kind="correction").data["items"] == ["营业执照复印件（须加盖公章）", "法定代表人身份证明"]
    assert CaseMaterial.objects.count() == 1  # the scan handed in is kept with the notice


def test_a_correction_with_nothing_to_correct_is_refused(world, matters, login, media):
    response = register(login(world.county_handler), matters.licence, decision="correction")
    assert response.status_code == 200 and "一次性告知补正必须列明全部需要补正的材料" in errors(response)
    assert_nothing_written(media)


# --- scoped downloads ----------------------------------------------------------------------------
def test_materials_are_downloaded_only_inside_the_cases_scope(world, matters, login, client):
    register(login(world.county_handler), matters.licence)
    case, material = Case.objects.get(), CaseMaterial.objects.get()
    link = reverse("approvals:material", args=[case.pk, material.pk])
    assert login(world.county_supervisor).get(link).status_code == 200  # supervises 天河
    for outsider in (world.shenzhen_handler, world.outsider):
        assert login(outsider).get(link).status_code == 404
    client.logout()
    assert client.get(link).status_code == 302  # to the login page, never the file
    other, _code = actions.do_submit_case(matter=matters.licence, case_no="TH-OTHER", applicant_name="李四")
    wrong_case = reverse("approvals:material", args=[other.pk, material.pk])
    assert login(world.county_handler).get(wrong_case).status_code == 404
    handler = login(world.county_handler)
    for public in (f"/media/{material.file.name}", f"/{material.file.name}", f"/static/{material.file.name}"):
        assert handler.get(public).status_code == 404  # no URL serves the stored file itself


# --- a decision while a step is open ---------------------------------------------------------------
def accepted(matters, no="TH-D-0001"):
    case, _code = actions.do_submit_case(matter=matters.licence, case_no=no, applicant_name="张三丰",
                                         received_at=timezone.now() - timedelta(hours=3))
    return actions.do_accept_case(case, at=timezone.now() - timedelta(hours=2))


def test_a_decision_is_refused_while_a_step_is_open_naming_it(world, matters):
    case = accepted(matters)
    with pytest.raises(actions.CaseError) as refused:
        actions.do_decide_case(case, outcome="granted", require_steps_done=True)
    assert refused.value.field == "step" and "环节“审查”尚未办结，不能作出决定" in refused.value.message
    actions.do_complete_step(case, step="审查", at=timezone.now() - timedelta(hours=1))
    with pytest.raises(actions.CaseError, match="环节“决定”尚未办结"):
        actions.do_decide_case(case, outcome="granted", require_steps_done=True)
    actions.do_complete_step(case, step="决定")
    assert actions.do_decide_case(case, outcome="granted", require_steps_done=True).status == "decided"


def test_the_case_page_refuses_a_decision_while_a_step_is_open(world, matters, login):
    case = accepted(matters)
    client = login(world.county_handler)
    response = client.post(reverse("approvals:act", args=[case.pk, "decide"]),
                           {"rev": revision(case), "outcome": "granted", "reasons": ""})
    assert response.status_code == 200 and "环节“审查”尚未办结，不能作出决定" in errors(response)
    case.refresh_from_db()
    assert case.status == "accepted" and case.decided_at is None
    for step in ("审查", "决定"):
        actions.do_complete_step(case, step=step)
    done = client.post(reverse("approvals:act", args=[case.pk, "decide"]),
                       {"rev": revision(case), "outcome": "granted", "reasons": ""})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == "decided"


@pytest.mark.parametrize("fast", [True, False])
def test_the_exchange_holds_a_decision_reported_before_its_steps_until_they_arrive(world, matters, fast):
    from xiaoneng.approvals.exchange import keys, pipeline

    source, _key = keys.do_create_source(code="th", organ_codes=[world.tianhe_bureau.credit_code])
    organ = world.tianhe_bureau.credit_code

    def ev(event_id, type_, when, **extra):
        return {"event_id": event_id, "type": type_, "occurred_at": datetime.fromisoformat(when).replace(tzinfo=SH).isoformat(),
                "case_no": "TH-X-1", "matter_code": "440106-SP-001", "organ_code": organ, **extra}

    first = [ev("A1", "submitted", "2026-10-08T10:00", applicant_name="张三"), ev("A2", "accepted", "2026-10-09T09:00"),
             ev("A3", "step_completed", "2026-10-12T09:00", step="审查"),
             ev("A5", "decided", "2026-10-14T15:00", outcome="granted")]
    receipt = pipeline.receive(source, json.dumps(first).encode(), fast=fast)
    held = receipt.results[-1]
    assert (held.result, held.field) == ("held", "step") and "环节“决定”尚未办结" in held.reason
    assert Case.objects.get(case_no="TH-X-1").status == "accepted"
    late_step = [ev("A4", "step_completed", "2026-10-14T09:00", step="决定")]
    pipeline.receive(source, json.dumps(late_step).encode(), fast=fast)
    case = Case.objects.get(case_no="TH-X-1")
    assert case.status == "decided" and case.decided_at == datetime(2026, 10, 14, 15, tzinfo=SH)


# --- fees at entry ---------------------------------------------------------------------------------
def fee(client, case, amount):
    return client.post(reverse("approvals:act", args=[case.pk, "fee"]), {"rev": revision(case), "amount": amount})


def test_the_page_refuses_a_fee_on_a_free_matter_with_the_reason(world, matters, login):
    case = accepted(matters)
    response = fee(login(world.county_handler), case, "20")
    assert response.status_code == 200 and "本事项为不收费事项，不得收取任何费用" in errors(response)
    case.refresh_from_db()
    assert case.fee_charged == 0 and not CaseEvent.objects.filter(case=case, kind="fee").exists()


def test_the_page_refuses_a_fee_above_the_standard_and_takes_one_within_it(world, matters, login):
    case, _code = actions.do_submit_case(matter=matters.paid, case_no="TH-FEE-1", applicant_name="张三丰")
    client = login(world.county_handler)
    assert fee(client, case, "60.00").status_code == 302
    case.refresh_from_db()
    response = fee(client, case, "50.00")
    assert response.status_code == 200
    assert "收费合计 110.00 元将超过收费标准 100.00 元（已收 60.00 元）" in errors(response)
    case.refresh_from_db()
    assert case.fee_charged == Decimal("60.00")


def test_a_fee_reported_by_the_exchange_above_the_standard_is_kept_for_supervision(world, matters):
    from xiaoneng.supervision.models import Alert

    case, _code = actions.do_submit_case(matter=matters.paid, case_no="TH-FEE-2", applicant_name="张三丰")
    actions.do_charge_fee(case, amount="150.00")  # what an organ's system reports: it happened
    case.refresh_from_db()
    assert case.fee_charged == Decimal("150.00")
    assert Alert.objects.filter(rule="fee_above_standard", subject_id=case.pk).exists()


def test_the_refusals_read_in_english_for_a_user_who_chose_english(world, matters, login, media):
    client = login(world.county_handler)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    fake = SimpleUploadedFile("form.pdf", b"GIF89a" + b"\x00" * 20, content_type="application/pdf")
    response = client.post(f"{reverse('approvals:register')}?matter={matters.licence.pk}",
                           form_data(m0_file=fake))
    html = errors(response)
    assert "only PDF, JPEG, PNG and OFD files are accepted" in html and "Register a case" in html
    case = accepted(matters)
    refused = client.post(reverse("approvals:act", args=[case.pk, "fee"]), {"rev": revision(case), "amount": "5"})
    assert "This matter is free of charge; no fee may be charged" in errors(refused)
    assert CaseMaterial.objects.count() == 0
