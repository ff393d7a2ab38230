"""`xiaoneng complaints sweep | categories load [FILE] | categories export`."""
import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from xiaoneng.complaints import actions as act
from xiaoneng.complaints.categories import DATA_FILE
from xiaoneng.complaints.models import Category, Status


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("complaints", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def entries():
    return json.loads(DATA_FILE.read_text(encoding="utf-8"))


def write(tmp_path, data, encoding="utf-8"):
    path = tmp_path / "categories.json"
    path.write_bytes(data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode(encoding))
    return str(path)


# --- sweep -------------------------------------------------------------------------------
def test_sweep_closes_replied_complaints_whose_appeal_window_passed_and_says_how_many(desk):
    old = timezone.now() - timedelta(days=40)
    stale, _secret = desk.file(received_at=old)
    fresh, _secret = desk.file(received_at=old, title="另一件投诉", content="窗口无人。")
    for complaint, replied in ((stale, old + timedelta(days=3)), (fresh, timezone.now() - timedelta(days=2))):
        act.do_accept(complaint, at=replied - timedelta(days=2))
        act.do_report_handling(complaint, report="已核查", result="unfounded", at=replied - timedelta(hours=1))
        act.do_reply(complaint, text="经核查不属实。", at=replied)
    out, err = run("sweep")
    assert "已自动办结 1 件投诉" in out and err
    stale.refresh_from_db(), fresh.refresh_from_db()
    assert stale.status == Status.CLOSED and fresh.status == Status.REPLIED
    assert "已自动办结 0 件投诉" in run("sweep")[0]


def test_sweep_refuses_a_non_positive_interval(db):
    with pytest.raises(CommandError, match="--every"):
        run("sweep", "--every", "0")


# --- categories load / export -----------------------------------------------------------------
def test_loading_the_packaged_categories_twice_creates_them_once(db):
    out, err = run("categories", "load")
    assert "新增 9 个" in out and "categories.json" in err
    assert Category.objects.get(code="other").name == "其他"
    assert Category.objects.get(code="window_discipline").attributes[0]["code"] == "window_no"
    assert "新增 0 个，更新 0 个，未变 9 个" in run("categories", "load")[0]


def test_a_file_updates_categories_by_code_and_keeps_the_others(db, tmp_path):
    run("categories", "load")
    changed = [dict(entries()[0], name="办事拖拉"), {"code": "noise", "name": "噪音", "keywords": ["噪音", "扰民"]}]
    out, _err = run("categories", "load", write(tmp_path, changed))
    assert "新增 1 个，更新 1 个" in out
    assert Category.objects.get(code="delay").name == "办事拖拉"
    assert Category.objects.get(code="noise").keywords == "噪音,扰民"
    assert Category.objects.count() == 10


def test_export_writes_what_load_reads_back_unchanged(db, tmp_path):
    run("categories", "load")
    out, _err = run("categories", "export")
    exported = json.loads(out)
    assert [e["code"] for e in exported][-1] == "other" and len(exported) == 9
    assert "未变 9 个" in run("categories", "load", write(tmp_path, exported))[0]


@pytest.mark.parametrize("data,expected", [
    (b'[{"code": "delay", "name": "x",}]', "JSON 格式错误：第 1 行"),
    (json.dumps([{"code": "delay", "name": "办事拖拉"}], ensure_ascii=False).encode("gbk"), "UTF-8"),
    ([{"code": "delay", "name": "办事拖拉"}, {"code": "slow"}], "第 2 项（slow）：缺少必填字段 name"),
    ([{"code": "slow", "name": "慢", "attributes": [{"code": "when", "datatype": "date", "description": "何时"}]}],
     "第 1 项（slow）：字段 attributes：第 1 项的 datatype"),
    ([{"code": "slow", "name": "慢", "nmae": "x"}], "未知字段 nmae"),
    ([{"code": "slow", "name": "慢"}, {"code": "slow", "name": "慢2"}], "编码 slow 与第 1 项重复"),
    ([{"code": "has space", "name": "慢"}], "字段 code"),
    ([{"code": "slow", "name": "慢", "order": "first"}], "字段 order"),
    ({"code": "slow"}, "JSON 数组"),
])
def test_a_bad_file_is_refused_naming_entry_and_field_and_changes_nothing(db, tmp_path, data, expected):
    run("categories", "load")
    before = list(Category.objects.values_list("code", "name", "order"))
    path = write(tmp_path, data) if not isinstance(data, bytes) else write(tmp_path, data)
    with pytest.raises(CommandError) as err:
        run("categories", "load", path)
    assert expected in str(err.value) and "未做任何修改" in str(err.value)
    assert list(Category.objects.values_list("code", "name", "order")) == before


def test_a_good_entry_is_not_written_when_another_entry_is_bad(db, tmp_path):
    data = [{"code": "fine", "name": "好的"}, {"code": "bad", "name": "坏的", "is_active": "yes"}]
    with pytest.raises(CommandError, match="第 2 项（bad）：字段 is_active"):
        run("categories", "load", write(tmp_path, data))
    assert not Category.objects.exists()


def test_a_missing_file_is_a_clear_error(db, tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        run("categories", "load", str(tmp_path / "nope.json"))
