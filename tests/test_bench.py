"""The benchmarks run and check their own answers (their speed goals are read from their output, not asserted here)."""
from bench import clocks


def test_the_clock_benchmark_runs_small_and_its_bulk_answers_agree_with_the_loop(capsys):
    assert clocks.main(["--clocks", "2000", "--sample", "20", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "ratio:" in out and "20/20 sampled due dates agree" in out
