"""Evidence files on a proposal and with a case's findings: judged by content, stored safely, opened only in scope."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.conftest import make_user
from xiaoneng.accountability import actions
from xiaoneng.accountability.actions import AccountabilityError
from xiaoneng.accountability.models import Case, Evidence, Proposal, Responsibility, Status
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.models import Role

pytestmark = pytest.mark.django_db
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
EXE = b"MZ\x90\x00" + b"\x00" * 60
NEW = "/accountability/proposals/new/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def form(world, **extra):
    return {"source": "media", "organ": world.tianhe_bureau.pk, "title": "暗访发现窗口推诿", "reason": "暗访视频显示推诿",
            "document": "暗访照片", "document_text": "窗口 3 号", **extra}


def stored_files(root):
    return [p for p in root.rglob("*") if p.is_file()]


def test_a_proposal_carries_its_files_in_the_evidence_chain(world, login, media):
    client = login(world.county_supervisor)
    response = client.post(NEW, form(world, files=[upload("现场.png", PNG, "image/png"), upload("笔录.pdf", PDF)]))
    assert response.status_code == 302
    proposal = Proposal.objects.get()
    files = list(proposal.evidence.order_by("pk"))
    assert [(e.file_name, e.content_type, e.label, e.size) for e in files] == [
        ("现场.png", "image/png", "暗访照片", len(PNG)), ("笔录.pdf", "application/pdf", "暗访照片", len(PDF))]
    # stored under random names below MEDIA_ROOT/accountability: nothing the uploader typed is a path
    assert all(e.attachment.name.startswith("accountability/") and "现场" not in e.attachment.name for e in files)
    assert len(stored_files(media)) == 2
    upload_entry = AuditEntry.objects.get(action="accountability.evidence.upload")
    assert upload_entry.changes["evidence"] == [e.pk for e in files]
    page = client.get(reverse("accountability:proposal", args=[proposal.pk])).content.decode()
    assert reverse("accountability:evidence-file", args=[files[0].pk]) in page and "现场.png" in page


@pytest.mark.parametrize("name,data,words", [
    ("照片.png", EXE, "不是 PDF、JPEG 或 PNG 文件"),  # a program renamed .png
    ("说明.pdf", b"<html><script>alert(1)</script>", "不是 PDF、JPEG 或 PNG 文件"),
    ("大图.png", PNG + b"\x00" * (1024 * 1024), "超过 1 MB"),
])
def test_a_wrong_or_oversized_file_is_refused_and_nothing_is_proposed(world, login, media, settings, name, data, words):
    settings.XIAONENG_RULES = {"accountability_evidence_max_bytes": 1024 * 1024}
    response = login(world.county_supervisor).post(NEW, form(world, files=[upload(name, data)]))
    html = response.content.decode()
    assert response.status_code == 200 and words in html and f"“{name}”" in html
    assert not Proposal.objects.exists() and not Evidence.objects.exists() and stored_files(media) == []


def test_more_files_than_allowed_are_refused(world, login, settings):
    settings.XIAONENG_RULES = {"accountability_evidence_max_count": 2}
    files = [upload(f"{n}.png", PNG) for n in range(3)]
    response = login(world.county_supervisor).post(NEW, form(world, files=files))
    assert "最多上传 2 个证据文件" in response.content.decode() and not Proposal.objects.exists()


def test_files_not_checked_never_reach_storage_through_the_action(world):
    with pytest.raises(AccountabilityError) as exc:
        actions.do_propose_accountability(source="media", organ=world.tianhe_bureau, title="暗访", reason="暗访发现",
                                          files=[upload("x.png", PNG)])
    assert exc.value.field == "files" and not Proposal.objects.exists()


def test_only_those_who_may_see_the_proposal_download_its_files_and_each_download_is_audited(world, login, media):
    login(world.county_supervisor).post(NEW, form(world, files=[upload("现场.png", PNG, "image/png")]))
    item = Evidence.objects.get()
    url = reverse("accountability:evidence-file", args=[item.pk])
    elsewhere = make_user("futian_supervisor", Role.SUPERVISOR, region=world.futian)
    for user in (world.outsider, world.county_handler, world.county_leader, world.auditor, elsewhere):
        assert login(user).get(url).status_code == 404, user
    assert not AuditEntry.objects.filter(action="accountability.evidence.read").exists()
    for user in (world.county_supervisor, world.city_supervisor):
        response = login(user).get(url)
        assert response.status_code == 200 and response.content == PNG and response["Content-Type"] == "image/png"
        assert response["Content-Disposition"].startswith("attachment;")
    reads = AuditEntry.objects.filter(action="accountability.evidence.read")
    assert [e.actor for e in reads.order_by("id")] == [world.county_supervisor, world.city_supervisor]
    assert login(world.county_supervisor).get(reverse("accountability:evidence-file", args=[999999])).status_code == 404


def test_a_file_changed_on_disk_is_refused(world, login, media):
    login(world.county_supervisor).post(NEW, form(world, files=[upload("现场.png", PNG, "image/png")]))
    item = Evidence.objects.get()
    (media / item.attachment.name).write_bytes(PNG + b"tampered")
    response = login(world.county_supervisor).get(reverse("accountability:evidence-file", args=[item.pk]))
    assert response.status_code == 410


def test_the_findings_step_takes_evidence_files_shown_on_the_case(acct, world, login, media):
    case = acct.register()
    actions.do_add_party(case, staff=acct.zhang, responsibility=Responsibility.DIRECT)
    client = login(world.county_supervisor)
    act = reverse("accountability:case-act", args=[case.pk, "findings"])
    rev = str(case.steps.count())
    bad = client.post(act, {"rev": rev, "findings": "经查属实", "files": [upload("x.png", EXE)]})
    assert bad.status_code == 200 and "不是 PDF、JPEG 或 PNG 文件" in bad.content.decode()
    assert Case.objects.get(pk=case.pk).status == Status.REGISTERED and not Evidence.objects.filter(case=case).exists()
    ok = client.post(act, {"rev": rev, "findings": "经查属实", "files": [upload("询问笔录.pdf", PDF)]})
    assert ok.status_code == 302
    item = Evidence.objects.get(case=case)
    assert item.case == case and item.proposal is None and item.file_name == "询问笔录.pdf"
    page = client.get(reverse("accountability:case", args=[case.pk])).content.decode()
    assert reverse("accountability:evidence-file", args=[item.pk]) in page
    assert login(world.outsider).get(reverse("accountability:evidence-file", args=[item.pk])).status_code == 404
    assert login(world.county_supervisor).get(reverse("accountability:evidence-file", args=[item.pk])).content == PDF
