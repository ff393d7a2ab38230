"""The appraisal benchmark's code path at a very small size (its speed goal is read from its output, not
asserted here): seeding every source, the province-wide computation and the raw aggregates."""
import re

import pytest


@pytest.mark.django_db(transaction=True)
def test_the_appraisal_benchmark_computes_every_indicator_and_the_raw_aggregates(capsys):
    from bench import appraisal
    from xiaoneng.appraisal.models import ResultLine

    assert appraisal.main(["--cases", "3000", "--organs", "12", "--in-place"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^compute:  12 results, 132 lines \(11 indicators\) in \d+\.\d\d s$", out, re.M), out
    assert re.search(r"^ratio: \d+\.\d\d× the raw aggregates \(", out, re.M), out
    # The seeded records reach every platform indicator that has them.
    for source in ("on_time", "handling_time", "cards", "orders", "satisfaction", "rectification", "complaint_rate"):
        assert ResultLine.objects.filter(indicator__source=source, value__isnull=False).exists(), source
