"""Benchmark: due dates for 1,000,000 clocks in bulk vs a per-clock chinesecalendar loop.

    python -m bench.clocks [--clocks 1000000] [--sample 300]

Both sides run in this process, on the same calendar data (the pinned chinesecalendar
package), in one run, so the ratio is meaningful on a shared, noisy machine. The bulk
side is the production path (xiaoneng.lib.workdays.WorkCalendar.due_indices: two array
reads per clock on the cumulative working-day index); the loop side is what a
straightforward implementation does: `chinese_calendar.get_workdays` per clock and
take the N-th day. The sample's answers are compared, so a wrong fast answer fails.
Goal (issue 2): at least 10,000x the loop and under 100 ns per clock.
"""
import argparse
import sys
import time
from datetime import date, timedelta

import chinese_calendar
import numpy as np

from xiaoneng.calendar.sources import package_years
from xiaoneng.lib.workdays import FIRST_DAY, WorkCalendar, day_index, index_day


def build_calendar() -> WorkCalendar:
    years = package_years()
    days = ((d.date, d.is_working, d.name) for ys in years.values() for d in ys)
    return WorkCalendar.from_days(days, list(years))


def loop_due(start: date, n: int) -> date:
    days = chinese_calendar.get_workdays(start + timedelta(days=1), start + timedelta(days=3 * n + 30))
    return days[n - 1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    cal = build_calendar()
    rng = np.random.default_rng(2026)
    lo, hi = day_index(date(2024, 1, 1)), day_index(date(2026, 9, 30))
    starts = rng.integers(lo, hi, size=args.clocks, dtype=np.int64)
    limits = rng.integers(1, 31, size=args.clocks, dtype=np.int64)

    best = float("inf")
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        due = cal.due_indices(starts, limits)
        best = min(best, time.perf_counter() - t0)
    bulk_ns = best / args.clocks * 1e9

    sample = rng.choice(args.clocks, size=args.sample, replace=False)
    t0 = time.perf_counter()
    loop_answers = [loop_due(index_day(int(starts[i])), int(limits[i])) for i in sample]
    loop_s = time.perf_counter() - t0
    loop_ns = loop_s / args.sample * 1e9

    wrong = sum(index_day(int(due[i])) != want for i, want in zip(sample, loop_answers, strict=True))
    ratio = loop_ns / bulk_ns
    print(f"calendar: {FIRST_DAY}.. day-by-day, {int(cal.working.sum())} working days")
    print(f"bulk:  {args.clocks:>9,} clocks in {best * 1e3:8.2f} ms = {bulk_ns:8.1f} ns/clock (best of {args.repeat})")
    print(f"loop:  {args.sample:>9,} clocks in {loop_s * 1e3:8.2f} ms = {loop_ns:8.1f} ns/clock (chinesecalendar.get_workdays)")
    print(f"ratio: bulk is {ratio:,.0f}x the per-clock loop (goal >= 10,000x); {bulk_ns:.1f} ns/clock (goal < 100 ns)")
    print(f"check: {args.sample - wrong}/{args.sample} sampled due dates agree with the loop")
    return 1 if wrong else 0


if __name__ == "__main__":
    sys.exit(main())
