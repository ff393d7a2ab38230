"""The audit log reads like a register: who and in what role, what in words, on what (linked), when in
local time, before and after in words; filtered and exported in words; scoped; and each act credited
to whoever (or whatever) did it."""
import io
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.approvals import actions as cases
from xiaoneng.audit.log import acting_as
from xiaoneng.audit.models import AuditEntry
from xiaoneng.orgs.actions import do_update_organ
from xiaoneng.orgs.models import OrganKind
from xiaoneng.supervision import engine
from xiaoneng.supervision.models import SupervisionOrder
from xiaoneng.supervision.rules import Finding

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def register(world, matters):
    """The handler (李晓梅) registers a case on the web; the administrator (王建国) changes an organ."""
    world.county_handler.display_name = "李晓梅"
    world.county_handler.save(update_fields=["display_name"])
    world.admin.display_name = "王建国"
    world.admin.save(update_fields=["display_name"])
    with acting_as(world.county_handler, channel=AuditEntry.Channel.WEB):
        case, _code = cases.do_submit_case(matter=matters.licence, case_no="TH-REG-0001", applicant_name="欧阳修文",
                                           received_at=datetime(2026, 9, 28, 10, 0, tzinfo=SH))
    with acting_as(world.admin, channel=AuditEntry.Channel.WEB):
        do_update_organ(world.tianhe_bureau, kind=OrganKind.INSTITUTION, parent=world.yuexiu_bureau)
    with acting_as(world.admin, channel=AuditEntry.Channel.WEB):
        do_update_organ(world.futian_bureau, short_name="福田局")
    return case


def page(client, **params):
    return client.get(reverse("audit:index"), {"per_page": 100, **params})


def rows_of(response) -> list[str]:
    """Each row of the register as its visible text, whitespace folded."""
    html = response.content.decode()
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
            for row in re.findall(r'<tr data-testid="audit-row">(.*?)</tr>', html, re.S)]


def test_the_register_names_the_actor_by_real_name_and_role_and_the_action_in_words(register, world, login):
    rows = rows_of(page(login(world.auditor), action="case.submit"))
    assert len(rows) == 1
    assert "李晓梅" in rows[0] and "办件人员" in rows[0] and "办件申请登记" in rows[0]
    assert "county_handler" not in rows[0] and "case.submit" not in rows[0]


def test_the_object_is_named_and_linked_to_its_page_for_a_reader_who_may_see_it(register, world, login):
    html = page(login(world.auditor), action="case.submit").content.decode()
    assert f'<a href="/cases/{register.pk}/">TH-REG-0001' in html
    assert "approvals.case" not in " ".join(rows_of(page(login(world.auditor))))
    assert '<option value="approvals.casestep">办理环节</option>' in html  # the filter offers names too


def test_the_time_is_local_time(register, world, login):
    entry = AuditEntry.objects.filter(action="case.submit").get()
    html = page(login(world.auditor), action="case.submit").content.decode()
    assert entry.at.astimezone(SH).strftime("%Y-%m-%d %H:%M:%S") in html
    assert entry.at.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%d %H:%M:%S") not in html


def test_before_and_after_are_in_words_with_field_names_choice_labels_and_names_for_foreign_keys(
        register, world, login):
    rows = rows_of(page(login(world.auditor), object_type="orgs.organ", action="update"))
    change = next(r for r in rows if "广州市天河区市场监督管理局" in r and "类别" in r)
    assert "类别：政府工作部门 → 承担公共事务职能的事业单位" in change
    assert "上级机关：广州市市场监督管理局 → 广州市越秀区市场监督管理局" in change
    assert "王建国" in change and "系统管理员" in change and "修改" in change
    assert "government" not in change and "parent_id" not in change and "kind:" not in change


def test_the_filters_narrow_by_actor_action_object_type_region_and_date(register, world, login):
    client = login(world.admin)
    assert all("李晓梅" in r for r in rows_of(page(client, actor="李晓梅")))
    assert len(rows_of(page(client, actor="李晓梅"))) >= 1
    assert {r.split(" ")[-1] for r in rows_of(page(client, actor="王建国"))}  # the admin's own entries
    organs = rows_of(page(client, object_type="orgs.organ", action="update"))
    assert len(organs) == 2 and all("修改" in r for r in organs)
    futian = rows_of(page(client, object_type="orgs.organ", action="update", region=world.futian.code))
    assert len(futian) == 1 and "福田" in futian[0]
    today = datetime.now(SH).date()
    assert rows_of(page(client, since=today.isoformat(), until=today.isoformat()))
    assert rows_of(page(client, until="2020-01-01")) == []


def test_the_register_exports_to_excel_in_words(register, world, login):
    response = page(login(world.auditor), export="xlsx", object_type="orgs.organ", action="update")
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [c.value for c in sheet[1]]
    assert header[:6] == ["编号", "时间", "操作人", "角色", "渠道", "操作"]
    rows = [dict(zip(header, r, strict=True)) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(rows) == 1  # the 福田 change is outside the 广州 auditor's region
    row = rows[0]
    assert row["操作人"] == "王建国" and row["角色"] == "系统管理员" and row["操作"] == "修改"
    assert row["对象类型"] == "机关单位" and row["对象"] == "广州市天河区市场监督管理局"
    assert "类别：政府工作部门 → 承担公共事务职能的事业单位" in row["变更"]
    entry = AuditEntry.objects.filter(action="update", object_type="orgs.organ", object_id=str(world.tianhe_bureau.pk)).get()
    assert row["时间"] == entry.at.astimezone(SH).replace(tzinfo=None, microsecond=row["时间"].microsecond)


def test_the_register_stays_in_the_readers_region_and_no_filter_widens_it(register, world, login, client):
    auditor = login(world.auditor)
    assert all("福田" not in r for r in rows_of(page(auditor)))
    assert rows_of(page(auditor, region=world.futian.code)) == []
    sheet = load_workbook(io.BytesIO(page(auditor, region=world.futian.code, export="xlsx").content)).active
    assert sheet.max_row == 1
    client.logout()
    assert login(world.outsider).get(reverse("audit:index")).status_code == 404
    assert login(world.county_handler).get(reverse("audit:index"), {"export": "xlsx"}).status_code == 404


def test_an_automatic_order_is_credited_to_the_system_not_to_the_person_whose_request_set_it_off(
        register, world, login):
    finding = Finding("correction_late", "yellow", world.tianhe_bureau, register,
                      "补正告知超期", "《行政许可法》第三十二条", key="register-test")
    # As when a handler's late step, recorded on the web, makes a rule find a yellow card.
    with acting_as(world.county_handler, channel=AuditEntry.Channel.WEB):
        engine.raise_findings([finding])
    order = SupervisionOrder.objects.get(organ=world.tianhe_bureau)
    opened = AuditEntry.objects.get(action="order.open", object_id=str(order.pk))
    assert opened.actor is None and opened.channel == AuditEntry.Channel.SYSTEM
    raised = AuditEntry.objects.filter(action="supervision.raise").latest("id")
    assert raised.actor is None and raised.channel == AuditEntry.Channel.SYSTEM
    assert order.steps.get().actor_label != "county_handler"
    row = next(r for r in rows_of(page(login(world.auditor), action="order.open")))
    assert "系统（自动监察）" in row and "李晓梅" not in row and "发出督办" in row
    # A batch of alerts is about no one region: the province-wide administrator reads it.
    raised_row = rows_of(page(login(world.admin), action="supervision.raise"))[0]
    assert "补正告知超期 ×1" in raised_row and "correction_late" not in raised_row


def test_what_a_person_does_is_still_credited_to_that_person(register, world):
    entry = AuditEntry.objects.get(action="case.submit")
    assert entry.actor == world.county_handler and entry.channel == AuditEntry.Channel.WEB


def test_the_register_reads_in_english_for_an_english_reader(register, world, login):
    client = login(world.auditor)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    rows = rows_of(page(client, action="case.submit")) + rows_of(page(client, object_type="orgs.organ", action="update"))
    assert any("Application registered" in r and "Case handler" in r for r in rows), rows
    assert any("Changed" in r for r in rows), rows
    html = page(client).content.decode()
    assert '<option value="approvals.casestep">Handling steps</option>' in html
