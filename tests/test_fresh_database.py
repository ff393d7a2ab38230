"""The `xiaoneng` command on a database nobody has set up: one line saying what to run, no traceback.

Each test runs the real console command in a subprocess against a fresh SQLite path (the settings
read DATABASE_URL), whatever database the suite itself runs on.
"""
import json
import os
import subprocess
import sys

import pytest


def run(tmp_path, *args, database=None):
    env = {**os.environ, "XIAONENG_VAR_DIR": str(tmp_path), "XIAONENG_LANGUAGE": "zh-hans",
           "DATABASE_URL": database or f"sqlite:///{tmp_path / 'fresh.sqlite3'}"}
    return subprocess.run([sys.executable, "-m", "xiaoneng", *args], capture_output=True, text=True, timeout=120,
                          env=env)


@pytest.mark.parametrize("args", [
    ["calendar", "years"],
    ["runclocks", "--once"],
    ["notify", "send"],
    ["seed"],
    ["exchange-source", "list"],
])
def test_a_command_on_a_database_not_set_up_says_to_migrate_in_one_line(tmp_path, args):
    result = run(tmp_path, *args)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [f"xiaoneng {args[0].replace('-', '_')}: 数据库尚未初始化：请先运行 xiaoneng migrate"]


def test_a_command_on_a_half_migrated_database_says_to_migrate(tmp_path):
    assert run(tmp_path, "migrate", "orgs", "-v", "0").returncode == 0
    result = run(tmp_path, "notify", "send")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "迁移未应用" in line and line.endswith("请先运行 xiaoneng migrate")


def test_the_deadline_calculator_needs_no_database(tmp_path):
    result = run(tmp_path, "deadline", "--start", "2026-09-28", "--days", "20", "--json")
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["due_date"] == "2026-10-30" and answer["provisional"] is False  # National Day and 10-10 counted
    assert "Traceback" not in result.stderr and "chinesecalendar" in result.stderr
    assert not (tmp_path / "fresh.sqlite3").exists()  # nothing created on the way


def test_the_deadline_calculator_without_a_database_answers_as_with_one(tmp_path):
    args = ("deadline", "--start", "2026-12-28", "--days", "30", "--pause", "2027-01-04:2027-01-08", "--json")
    bare = run(tmp_path, *args)
    assert bare.returncode == 0, bare.stderr
    assert run(tmp_path, "migrate", "-v", "0").returncode == 0
    migrated = run(tmp_path, *args)
    assert migrated.returncode == 0 and migrated.stderr == ""
    assert json.loads(bare.stdout) == json.loads(migrated.stdout)


def test_an_unreachable_database_is_named_not_traced(tmp_path):
    result = run(tmp_path, "calendar", "years", database="postgres://root@127.0.0.1:1/nothing")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "无法连接数据库" in line and "DATABASE_URL" in line
