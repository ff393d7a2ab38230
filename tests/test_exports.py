"""Background exports: a list's export link queues a job that re-runs the page's own rows for the
requester, a worker loop writes the file (surviving a SIGKILL), and only the requester downloads it."""
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from xiaoneng.clocks.actions import do_start_clock
from xiaoneng.clocks.models import Clock
from xiaoneng.exports import actions
from xiaoneng.exports.actions import ExportError, do_request_export
from xiaoneng.exports.models import Export
from xiaoneng.orgs.models import Grant

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def export_dir(tmp_path, settings):
    settings.XIAONENG_EXPORT_DIR = str(tmp_path / "exports")
    return tmp_path / "exports"


@pytest.fixture
def background(settings):
    """Every export, however small, goes to the background."""
    settings.XIAONENG_RULES = {"export_background_rows": 0}


@pytest.fixture
def clocks(world):
    made = []
    for i, organ in enumerate([world.tianhe_bureau, world.tianhe_bureau, world.yuexiu_bureau, world.futian_bureau]):
        made.append(do_start_clock(kind=f"test.kind{i}", label=f"时限{i}", start_at=datetime(2026, 9, 1 + i, 10, tzinfo=SH),
                                   limit=5 + i, organ=organ))
    return made


def read(path):
    wb = load_workbook(path, read_only=True)
    rows = list(wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return rows


def test_a_large_list_export_queues_a_job_that_keeps_the_filters_and_sort(world, login, clocks, background):
    client = login(world.city_supervisor)
    response = client.get(reverse("clocks:index"), {"q": "时限", "sort": "-start", "page": "2", "export": "xlsx"})
    job = Export.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('exports:index')}?job={job.pk}"
    assert (job.user, job.list_name, job.state) == (world.city_supervisor, "clocks:index", Export.State.QUEUED)
    assert job.query == "q=%E6%97%B6%E9%99%90&sort=-start"  # page and export dropped, filters kept
    assert str(job.title) == "时限"


def test_a_second_click_gives_the_same_job_while_it_waits(world, clocks, background):
    first = do_request_export(world.admin, "clocks:index", "q=时限")
    assert do_request_export(world.admin, "clocks:index", "q=时限") == first
    assert Export.objects.count() == 1


def test_a_small_export_is_still_answered_at_once(world, login, clocks):
    client = login(world.admin)
    response = client.get(reverse("clocks:index"), {"export": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert not Export.objects.exists()


def test_the_loop_writes_exactly_the_pages_scoped_filtered_sorted_rows(world, clocks, background, export_dir):
    job = do_request_export(world.city_supervisor, "clocks:index", "sort=-start")
    assert actions.run_round("w1") == 1
    job.refresh_from_db()
    assert job.state == Export.State.DONE
    rows = read(export_dir / job.file)
    assert rows[0][:3] == ("名称", "类型", "责任机关")
    # 广州 only (the 深圳 clock is outside the city supervisor's scope), newest start first.
    assert [r[0] for r in rows[1:]] == ["时限2", "时限1", "时限0"]
    assert rows[1][2] == "广州市越秀区市场监督管理局"
    assert rows[1][3] == datetime(2026, 9, 3, 10)  # local time
    assert (job.rows_done, job.rows_total) == (3, 3)
    import hashlib
    assert hashlib.sha256((export_dir / job.file).read_bytes()).hexdigest() == job.sha256
    assert job.expires_at == job.finished_at + timedelta(days=7)


def test_a_user_who_lost_a_grant_gets_only_the_new_scope(world, clocks, background, export_dir):
    job = do_request_export(world.city_supervisor, "clocks:index", "")
    Grant.objects.filter(user=world.city_supervisor).update(region=world.yuexiu)
    actions.run_round("w1")
    job.refresh_from_db()
    assert [r[0] for r in read(export_dir / job.file)[1:]] == ["时限2"]


def test_a_user_with_no_grant_left_gets_an_empty_file_not_an_error(world, clocks, background, export_dir):
    job = do_request_export(world.city_supervisor, "clocks:index", "")
    Grant.objects.filter(user=world.city_supervisor).delete()
    actions.run_round("w1")
    job.refresh_from_db()
    assert job.state == Export.State.DONE and read(export_dir / job.file)[1:] == []


def test_only_the_requester_can_download_or_follow_the_job(world, login, client, clocks, background):
    job = do_request_export(world.city_supervisor, "clocks:index", "")
    actions.run_round("w1")
    login(world.outsider)
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 404
    assert client.get(reverse("exports:row", args=[job.pk])).status_code == 404
    login(world.admin)  # even an administrator: the file is the requester's
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 404
    client.logout()
    assert client.get(reverse("exports:download", args=[job.pk])).status_code == 302  # to the login page
    login(world.city_supervisor)
    response = client.get(reverse("exports:download", args=[job.pk]))
    assert response.status_code == 200
    assert len(read(io.BytesIO(b"".join(response.streaming_content)))) == 4


def test_my_exports_shows_progress_and_the_download_link(world, login, clocks, background):
    client = login(world.admin)
    job = do_request_export(world.admin, "clocks:index", "")
    html = client.get(reverse("exports:index")).content.decode()
    assert f'hx-get="{reverse("exports:row", args=[job.pk])}"' in html and "排队中" in html
    actions.run_round("w1")
    html = client.get(reverse("exports:row", args=[job.pk])).content.decode()
    assert "hx-get" not in html and "已完成" in html
    assert reverse("exports:download", args=[job.pk]) in html and 'value="100"' in html


def test_expired_files_are_removed_by_the_loop_and_no_longer_served(world, login, clocks, background, export_dir):
    job = do_request_export(world.admin, "clocks:index", "")
    actions.run_round("w1")
    job.refresh_from_db()
    path = export_dir / job.file
    Export.objects.filter(pk=job.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert login(world.admin).get(reverse("exports:download", args=[job.pk])).status_code == 404
    actions.run_round("w1")
    job.refresh_from_db()
    assert not path.exists() and job.file == ""


def test_the_requester_is_notified_when_the_file_is_ready(world, clocks, background, django_capture_on_commit_callbacks):
    from xiaoneng.notify.models import Message
    world.admin.email = "admin@example.gov.cn"
    world.admin.save()
    job = do_request_export(world.admin, "clocks:index", "")
    with django_capture_on_commit_callbacks(execute=True):
        actions.run_round("w1")
    message = Message.objects.get(kind="export.done")
    assert message.to == "admin@example.gov.cn" and message.ref == f"export:{job.pk}" and "我的导出" in message.text


@pytest.mark.parametrize(("list_name", "query", "error"), [
    ("clocks:detail", "", "没有可导出的列表“clocks:detail”。"),
    ("nope:index", "", "没有可导出的列表“nope:index”。"),
    ("clocks:index", "due_from=2026-13-40", "筛选条件无效：到期日自："),
    ("clocks:index", "status=hacked", "筛选条件无效：状态："),
    ("clocks:index", "q=" + "x" * 2100, "筛选条件过长"),
])
def test_bad_input_is_refused_with_the_reason_and_queues_nothing(world, login, list_name, query, error):
    with pytest.raises(ExportError) as refused:
        do_request_export(world.admin, list_name, query)
    assert str(refused.value).startswith(error)
    response = login(world.admin).post(reverse("exports:start"), {"list": list_name, "query": query})
    assert response.status_code == 400 and error in response.content.decode()
    assert not Export.objects.exists()


def test_a_region_outside_the_scope_in_a_tampered_query_is_refused(world):
    with pytest.raises(ExportError, match="筛选条件无效"):
        do_request_export(world.city_supervisor, "clocks:index", f"region={world.futian.code}")


def test_a_tampered_job_for_an_unknown_list_fails_with_the_reason(world, background):
    job = Export.objects.create(user=world.admin, list_name="admin:index", title="x")
    actions.run_round("w1")
    job.refresh_from_db()
    assert job.state == Export.State.FAILED and job.error == "没有可导出的列表“admin:index”。"


def test_two_workers_never_claim_the_same_job(world, clocks, background):
    do_request_export(world.admin, "clocks:index", "")
    assert actions.claim_next("w1") is not None
    assert actions.claim_next("w2") is None


# -- a real worker process killed mid-export ------------------------------------------------------
def _database_url():
    db = connection.settings_dict
    if connection.vendor == "postgresql":
        return f"postgres://{db['USER'] or 'root'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    if not db["NAME"] or "memory" in str(db["NAME"]):
        pytest.skip("SQLite in memory: set XIAONENG_TEST_SQLITE to a file to run the worker as a process")
    return f"sqlite:///{db['NAME']}"


def _worker(tmp_path, export_dir, rules, *args):
    config = tmp_path / f"rules-{len(rules)}-{time.monotonic_ns()}.json"
    config.write_text(json.dumps(rules))
    env = {**os.environ, "DATABASE_URL": _database_url(), "XIAONENG_EXPORT_DIR": str(export_dir),
           "XIAONENG_CONFIG_FILE": str(config), "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen([sys.executable, "-m", "xiaoneng", "exports", "run", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_export_leaves_no_file_and_another_worker_finishes_the_job(world, tmp_path, export_dir):
    now = timezone.now()
    Clock.objects.bulk_create([
        Clock(kind="bulk", label=f"批量{i}", start_at=now, limit=5, organ=world.tianhe_bureau,
              region_code=world.tianhe_bureau.region_code, due_at=now + timedelta(days=7))
        for i in range(40_000)
    ], batch_size=5000)
    job = do_request_export(world.admin, "clocks:index", "")
    worker = _worker(tmp_path, export_dir, {"export_progress_rows": 2000}, "--every", "60")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.state == Export.State.RUNNING and job.rows_done > 0:
                break
            time.sleep(0.02)
        assert 0 < job.rows_done < 40_000, (job.state, job.rows_done, job.error)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    job.refresh_from_db()
    assert job.state == Export.State.RUNNING and job.file == "" and job.sha256 == ""
    assert list(export_dir.glob("*.xlsx")) == [] and len(list(export_dir.glob("*.part"))) == 1
    # While the dead worker's heartbeat is fresh nobody takes the job over…
    fresh = _worker(tmp_path, export_dir, {"export_stale_seconds": 3600})
    assert fresh.wait(60) == 0 and "exports run 0" in fresh.stdout.read()
    # …once it is stale, the next worker does, from scratch, and serves a complete file.
    Export.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=5))
    second = _worker(tmp_path, export_dir, {"export_stale_seconds": 2})
    assert second.wait(120) == 0, second.stdout.read()
    job.refresh_from_db()
    assert (job.state, job.rows_done, job.attempts) == (Export.State.DONE, 40_000, 2)
    assert list(export_dir.glob("*.part")) == []
    rows = read(export_dir / job.file)
    assert len(rows) == 40_001 and rows[-1][0].startswith("批量")
