"""The export benchmark runs small and checks its own file (its speed goals are read from its output)."""
import re

import pytest


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the worker is another process: it must see the committed rows
def test_the_export_benchmark_runs_a_real_worker_and_compares_it_with_copy_to(capsys, tmp_path, monkeypatch):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the export benchmark measures PostgreSQL")
    monkeypatch.setenv("XIAONENG_EXPORT_DIR", str(tmp_path))
    from bench import export

    assert export.main(["--rows", "3000", "--in-place"]) == 0
    out = capsys.readouterr().out
    assert "check:    3,000 rows in the file; first and last rows match the list" in out
    assert re.search(r"^ratio: \d+% of COPY TO; peak \d+ MB$", out, re.M), out
