"""The province's rules file (XIAONENG_CONFIG_FILE): read once, and refused whole at start-up when a
value cannot stand for its rule — never a default silently in force, never a 500 later."""
import json

import pytest
from django.core.exceptions import ImproperlyConfigured

from xiaoneng import conf


@pytest.fixture
def rules_file(tmp_path, settings):
    def write(data) -> None:
        path = tmp_path / "rules.json"
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        settings.XIAONENG_CONFIG_FILE = str(path)
        settings.XIAONENG_RULES = {}
        conf._overrides.cache_clear()

    yield write
    conf._overrides.cache_clear()


def test_a_good_file_overrides_the_defaults(rules_file):
    rules_file({"appraisal_excellent_quota": 0.15, "clock_warn_remaining_working_days": 3,
                "accountability_public_mask_names": False, "appraisal_adjustment_caps": {"bonus": 3, "deduction": 6}})
    assert conf.rule("appraisal_excellent_quota") == 0.15 and conf.rule("clock_warn_remaining_working_days") == 3
    assert conf.rule("accountability_public_mask_names") is False
    assert conf.rule("accountability_filing_working_days") == conf.DEFAULTS["accountability_filing_working_days"]


@pytest.mark.parametrize("name,value,why", [
    ("appraisal_excellent_quota", 20, "a share between 0 and 1 expected"),  # 20 meant 20%
    ("appraisal_excellent_quota", "0.2", "a number expected"),
    ("clock_warn_share", float("nan"), "a number expected"),
    ("clock_warn_remaining_working_days", 2.5, "a whole number expected"),
    ("clock_warn_remaining_working_days", True, "a number expected"),
    ("accountability_public_mask_names", "yes", "true or false expected"),
    ("appraisal_adjustment_caps", [5, 10], "an object expected"),
    ("accountability_escalation", {}, "a list expected"),
    ("appraisal_office_short_name", 7, "text expected"),
])
def test_a_value_of_the_wrong_kind_stops_the_platform_naming_the_rule(rules_file, name, value, why):
    rules_file({name: value})
    with pytest.raises(ImproperlyConfigured) as refused:
        conf.rule(name)
    assert f"{name} ({why}" in str(refused.value)


def test_a_file_that_is_not_one_object_or_names_an_unknown_rule_is_refused(rules_file):
    rules_file([["appraisal_excellent_quota", 0.2]])
    with pytest.raises(ImproperlyConfigured, match="one JSON object"):
        conf.rule("appraisal_excellent_quota")
    rules_file({"appraisal_excellent_qouta": 0.2})
    with pytest.raises(ImproperlyConfigured, match="unknown rules appraisal_excellent_qouta"):
        conf.rule("appraisal_excellent_quota")


def test_a_wrong_rules_file_stops_a_command_at_start_up_with_one_line(tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "rules.json"
    path.write_text('{"appraisal_excellent_quota": 20}', encoding="utf-8")
    env = {**os.environ, "XIAONENG_CONFIG_FILE": str(path), "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-m", "xiaoneng", "deadline", "--help"], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and "appraisal_excellent_quota (a share between 0 and 1 expected" in done.stderr
