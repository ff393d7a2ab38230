"""The benchmarks run and check their own answers (their speed goals are read from their output, not asserted here)."""
import re

import pytest

from bench import clocks


def test_the_clock_benchmark_runs_small_and_its_bulk_answers_agree_with_the_loop(capsys):
    assert clocks.main(["--clocks", "2000", "--sample", "20", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio:" in out and "20/20 sampled due dates agree" in out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)  # the senders are other processes: they must see the committed world
def test_the_ingest_benchmark_measures_concurrent_senders_and_keeps_the_audit_chain_intact(capsys):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the ingest benchmark measures PostgreSQL")
    from bench import ingest

    assert ingest.main(["--events", "300", "--in-place", "--batch", "100", "--senders", "2"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^scaling:  \d+\.\d\d× one sender \(2 senders", out, re.M), out
    assert "audit:    chain intact" in out
