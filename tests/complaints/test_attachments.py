"""Pictures and PDFs sent with a web complaint: judged by their content, stored with the complaint or not at all,
opened only by those who may know who complained."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.complaints.test_public import NEW, cheap_proof_of_work, form_data  # noqa: F401 (fixture)
from xiaoneng.complaints.models import Attachment, Complaint

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def upload(name, data, content_type="application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_a_complaint_arrives_with_its_picture_and_pdf(client, desk):
    files = [upload("窗口照片.png", PNG, "image/png"), upload("回执.pdf", PDF, "application/pdf")]
    response = client.post(NEW, {**form_data(client, desk), "attachments": files})
    assert response.status_code == 302
    complaint = Complaint.objects.get()
    stored = list(complaint.attachments.order_by("pk"))
    assert [(a.name, a.content_type) for a in stored] == [("窗口照片.png", "image/png"), ("回执.pdf", "application/pdf")]
    assert all(a.file.name.split("/")[-1] != a.name for a in stored)  # stored under a random name
    assert stored[0].file.read() == PNG


@pytest.mark.parametrize("name,data,reason", [
    ("照片.png", b"MZ\x90\x00" + b"\x00" * 60, "不是 JPEG、PNG 图片或 PDF 文件"),  # a program renamed .png
    ("说明.pdf", b"<html><script>alert(1)</script>", "不是 JPEG、PNG 图片或 PDF 文件"),
    ("大图.png", PNG + b"\x00" * (5 * 1024 * 1024), "超过 5 MB"),
])
def test_a_bad_file_is_refused_on_its_field_and_nothing_is_registered(client, desk, name, data, reason):
    response = client.post(NEW, {**form_data(client, desk), "attachments": [upload(name, data)]})
    assert response.status_code == 200
    assert reason in response.content.decode()
    assert not Complaint.objects.exists() and not Attachment.objects.exists()


def find_eicar(name, data):
    return "检出测试病毒 EICAR" if b"EICAR" in data else None


def test_a_file_the_virus_scanner_refuses_is_refused_on_its_field_and_nothing_is_registered(client, desk, settings):
    settings.XIAONENG_VIRUS_SCAN = f"{__name__}.find_eicar"
    response = client.post(NEW, {**form_data(client, desk), "attachments": [upload("照片.png", PNG + b"EICAR")]})
    assert "未通过病毒查杀：检出测试病毒 EICAR" in response.content.decode()
    assert not Complaint.objects.exists() and not Attachment.objects.exists()


def test_more_than_the_allowed_number_of_files_is_refused(client, desk):
    files = [upload(f"{n}.png", PNG, "image/png") for n in range(4)]
    response = client.post(NEW, {**form_data(client, desk), "attachments": files})
    assert "最多上传 3 个附件" in response.content.decode() and not Complaint.objects.exists()


def test_only_readers_of_the_full_texts_open_the_files(client, desk, login):
    from xiaoneng.complaints import actions as act

    client.post(NEW, {**form_data(client, desk), "attachments": [upload("照片.png", PNG, "image/png")]})
    complaint = Complaint.objects.get()
    act.do_accept(complaint)
    act.do_route(complaint, organ=desk.w.tianhe_bureau)
    attachment = complaint.attachments.get()
    url = reverse("complaints:attachment", args=[complaint.pk, attachment.pk])
    login(desk.w.complaint_officer)
    assert url in client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    response = client.get(url)
    assert response.status_code == 200 and response.content == PNG and response["Content-Type"] == "image/png"
    login(desk.w.county_handler)  # the organ complained about
    page = client.get(reverse("complaints:detail", args=[complaint.pk])).content.decode()
    assert url not in page and "1 个附件" in page
    assert client.get(url).status_code == 404
