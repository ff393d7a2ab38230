"""The web import of regions and organs: province administrators only, row errors shown."""
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from xiaoneng.orgs.models import Region


def workbook(rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_only_a_province_administrator_may_import(world, login, client):
    assert login(world.admin).get(reverse("orgs-import")).status_code == 200
    client.logout()
    assert login(world.city_supervisor).get(reverse("orgs-import")).status_code == 404


def test_a_bad_file_is_reported_and_nothing_is_written(world, login):
    page = login(world.admin).post(
        reverse("orgs-import"), {"what": "regions", "file": SimpleUploadedFile("x.xlsx", b"not a workbook")}
    )
    assert "Excel" in page.context["report"].summary()
    assert not page.context["report"].ok


def test_row_errors_are_listed_by_row_and_column(world, login):
    data = workbook([["区划代码", "名称", "层级", "上级区划代码"], ["4401069", "坏代码", 4, "440106000000"]])
    page = login(world.admin).post(reverse("orgs-import"), {"what": "regions", "file": SimpleUploadedFile("r.xlsx", data)})
    report = page.context["report"]
    assert not report.ok and report.errors[0].row == 2
    assert not Region.objects.filter(name="坏代码").exists()
