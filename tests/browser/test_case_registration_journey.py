"""Window staff register a case with its materials in a real browser, accept it and print the 受理通知书."""
import re

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from django.urls import include, path
from playwright.sync_api import expect

import xiaoneng.urls
from xiaoneng.approvals.models import Case, CaseMaterial

urlpatterns = [
    path("cases/", include("xiaoneng.approvals.urls")),
    *xiaoneng.urls.urlpatterns,
]
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.urls(__name__)]

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def test_a_handler_registers_a_case_with_a_scanned_material_accepts_it_and_prints_the_notice(page, world, matters,
                                                                                            media, shot):
    import xiaoneng.approvals.nav  # noqa: F401  (the app imports it in ready())

    # 1. Sign in and open 登记办件 from the navigation.
    page.goto("/login/?next=/cases/")
    page.get_by_label("用户名").fill("county_handler")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/cases/$"))
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="登记办件").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("登记办件")

    # 2. Choose the matter: its materials appear as a checklist.
    page.get_by_label("事项", exact=True).select_option(label=f"440106-SP-001 食品经营许可（{world.tianhe_bureau.name}）")
    page.get_by_role("button", name="选择事项").click()
    materials = page.get_by_test_id("material")
    expect(materials).to_have_count(2)
    items = page.get_by_label("需补正的材料")
    expect(items).to_have_value("食品经营许可申请书\n营业执照复印件")  # what is missing, until ticked

    # 3. A wrong check digit comes back as a message on the form.
    page.get_by_label("申请人", exact=True).fill("张三丰")
    page.get_by_label("证件号码").fill("110105194912310021")
    page.get_by_label("联系电话").fill("13800001234")
    materials.nth(0).get_by_role("checkbox").check()
    materials.nth(0).locator('input[type="file"]').set_input_files(
        files=[{"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    materials.nth(1).get_by_role("checkbox").check()
    expect(items).to_have_value("")
    shot("register-01-form")
    page.get_by_role("button", name="登记并受理").click()
    expect(page.get_by_test_id("field-error").first).to_contain_text("身份证号码校验位不正确")
    assert not Case.objects.exists()

    # 4. Corrected, registered and accepted in one go (the browser sends the scan again).
    page.get_by_label("证件号码").fill("11010519491231002X")
    materials = page.get_by_test_id("material")
    materials.nth(0).get_by_role("checkbox").check()
    materials.nth(0).locator('input[type="file"]').set_input_files(
        files=[{"name": "申请书.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    materials.nth(1).get_by_role("checkbox").check()
    page.get_by_role("button", name="登记并受理").click()
    expect(page.get_by_test_id("case-status")).to_have_text("已受理")
    expect(page.get_by_role("status").filter(has_text="已登记办件")).to_be_visible()
    expect(page.get_by_test_id("applicant-code")).to_have_text("110105********002X")
    expect(page.get_by_test_id("material-link")).to_have_text("食品经营许可申请书")
    assert CaseMaterial.objects.get().size == len(PDF)
    shot("register-02-accepted")

    # 5. Print the 受理通知书: the link to its PDF appears on the case page.
    documents = page.get_by_test_id("documents")
    documents.get_by_role("button", name="制发受理通知书").click()
    expect(documents.get_by_role("link", name="受理通知书")).to_be_visible()
    link = documents.get_by_role("link", name="受理通知书").get_attribute("href")
    response = page.request.get(link)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    shot("register-03-notice")
