"""A supervisor exports a filtered list in the background, watches its progress and downloads the file."""
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from conftest import PASSWORD  # tests/conftest.py: the shared personas
from openpyxl import load_workbook
from playwright.sync_api import expect

from xiaoneng.clocks.actions import do_start_clock
from xiaoneng.exports import actions
from xiaoneng.exports.models import Export

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SH = ZoneInfo("Asia/Shanghai")


def test_a_supervisor_starts_an_export_sees_its_progress_and_downloads_the_file(page, world, shot, settings, tmp_path):
    settings.XIAONENG_RULES = {"export_background_rows": 1}  # force even a small export into the background
    settings.XIAONENG_EXPORT_DIR = str(tmp_path)
    for i in range(3):
        do_start_clock(kind="case.legal", label=f"办件{i}", start_at=datetime(2026, 9, 1 + i, 10, tzinfo=SH), limit=5,
                       organ=world.tianhe_bureau)
    do_start_clock(kind="step", label="其他时限", start_at=datetime(2026, 9, 1, 10, tzinfo=SH), limit=5,
                   organ=world.yuexiu_bureau)  # in scope, filtered out
    do_start_clock(kind="case.legal", label="深圳办件", start_at=datetime(2026, 9, 1, 10, tzinfo=SH), limit=5,
                   organ=world.futian_bureau)

    page.goto("/clocks/")
    page.get_by_label("用户名").fill("city_supervisor")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    # 1. Filter the list, then export it: a job is queued and the user lands on 我的导出.
    expect(page.get_by_test_id("result-count")).to_have_text("共 4 条")
    page.locator("#clock-filter #id_q").fill("办件")
    page.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("result-count")).to_have_text("共 3 条")
    # Typing already sent one filter request; let the submitted one land too, or its URL update
    # (history.pushState) would cancel the export's navigation in Chromium.
    page.wait_for_load_state("networkidle")
    page.get_by_test_id("export-xlsx").click()
    expect(page).to_have_url(re.compile(r"/exports/\?job=\d+$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("我的导出")
    row = page.get_by_test_id("export-row")
    expect(row.get_by_test_id("export-state")).to_have_text("排队中")
    shot("export-01-queued")

    # 2. A worker claims it: the row, polled by htmx, shows it running with its row count.
    job = actions.claim_next("browser-worker")
    actions._beat(job, rows_total=3)
    expect(row.get_by_test_id("export-state")).to_have_text("导出中", timeout=8000)
    expect(row.get_by_test_id("export-progress")).to_contain_text("0 / 3")
    shot("export-02-running")

    # 3. It finishes; the row turns into a download link without reloading the page.
    actions.run_job(job)
    expect(row.get_by_test_id("export-state")).to_have_text("已完成", timeout=8000)
    expect(row.locator("progress")).to_have_attribute("value", "100")
    shot("export-03-done")
    with page.expect_download() as download:
        row.get_by_test_id("export-download").click()
    assert download.value.suggested_filename.startswith("时限-")
    path = tmp_path / "downloaded.xlsx"
    download.value.save_as(path)
    rows = list(load_workbook(path, read_only=True).worksheets[0].iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == ["办件0", "办件1", "办件2"]  # filtered, and 深圳 out of scope
    assert Export.objects.get().query == "q=%E5%8A%9E%E4%BB%B6&sort=due"
