"""References from high-volume rows to reference data are kept by Django, not by database constraints
(xiaoneng.lib.refs): the rows still cannot lose their parents through the application."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.db.models import ProtectedError

from xiaoneng.approvals import actions
from xiaoneng.approvals.models import Case, CaseStep, ExchangeEvent
from xiaoneng.clocks.models import Clock
from xiaoneng.supervision.models import Alert, EarlyCompletion

REFERENCES = {
    Clock: {"organ", "subject_type"},
    Case: {"matter_version", "organ", "first_review_organ", "source"},
    CaseStep: {"step", "organ"},
    ExchangeEvent: {"source", "batch"},
    Alert: {"organ", "subject_type"},
    EarlyCompletion: {"organ"},
}


def _foreign_keys(model) -> dict[str, str]:
    """Column → referenced table of the table's foreign-key constraints, as the database has them."""
    with connection.cursor() as cur:
        found = connection.introspection.get_constraints(cur, model._meta.db_table)
    return {c["columns"][0]: c["foreign_key"][0] for c in found.values() if c["foreign_key"]}


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite's schema is checked by its own rebuilds")
def test_high_volume_rows_keep_database_constraints_only_between_a_cases_own_records():
    for model, names in REFERENCES.items():
        keys = _foreign_keys(model)
        for name in names:
            assert model._meta.get_field(name).column not in keys, f"{model.__name__}.{name} still has a constraint"
    assert _foreign_keys(CaseStep) == {"case_id": "approvals_case", "clock_id": "clocks_clock"}
    assert set(_foreign_keys(Case)) == {"parent_id", "correction_clock_id", "promise_clock_id", "legal_clock_id",
                                        "certificate_clock_id"}


def test_an_organ_with_cases_and_clocks_still_cannot_be_deleted(matters, world):
    actions.do_submit_case(matter=matters.licence, case_no="REF-1", applicant_name="张三",
                           received_at=datetime(2026, 9, 28, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    with pytest.raises(ProtectedError) as refused:
        world.tianhe_bureau.delete()
    protecting = {type(o) for o in refused.value.protected_objects}
    assert {Case, Clock} <= protecting
    assert Case.objects.filter(case_no="REF-1", organ=world.tianhe_bureau).exists()
    assert Clock.objects.filter(organ=world.tianhe_bureau).exists()


def test_a_matter_version_in_use_cannot_be_deleted(matters):
    actions.do_submit_case(matter=matters.licence, case_no="REF-2", applicant_name="张三",
                           received_at=datetime(2026, 9, 28, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    case = Case.objects.get(case_no="REF-2")
    with pytest.raises(ProtectedError) as refused:
        case.matter_version.delete()
    assert case in refused.value.protected_objects
