"""`xiaoneng seed` ends with ANALYZE on PostgreSQL: a freshly seeded database has planner statistics
even when autovacuum is off."""
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xiaoneng.orgs.models import Region


def seed_regions():
    out = io.StringIO()
    with CaptureQueriesContext(connection) as queries:
        call_command("seed", "--scale", "demo", "--only", "regions", stdout=out)
    return out.getvalue(), [q["sql"].strip().upper() for q in queries]


@pytest.mark.postgres
@pytest.mark.django_db
def test_the_seed_analyzes_the_database_after_its_last_step_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE is run on PostgreSQL only")
    out, sql = seed_regions()
    assert Region.objects.exists()
    assert "ANALYZE" in sql
    last_write = max(i for i, q in enumerate(sql) if q.startswith(("INSERT", "UPDATE", "COPY")))
    assert sql.index("ANALYZE") > last_write  # after every step's writes, so the statistics see them
    assert "ANALYZE" in out


@pytest.mark.django_db
def test_the_seed_runs_without_analyze_on_sqlite():
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite case")
    out, sql = seed_regions()
    assert Region.objects.exists()
    assert "ANALYZE" not in sql and "ANALYZE" not in out
