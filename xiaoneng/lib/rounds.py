"""The `--every SECONDS` loop of the long-running commands (runclocks, notify send, stats refresh,
complaints sweep)."""
from __future__ import annotations

import signal
import time
from collections.abc import Callable

NAP = 1.0  # the longest a stop request waits while the loop waits for its next round


def repeat(round_: Callable[[int], None], every: float | None) -> None:
    """Run `round_(n)` (n = 0, 1, …) once, or every `every` seconds until stopped.

    SIGTERM (a service manager stopping the command) and Ctrl-C end the loop between rounds,
    never in the middle of one, so a round's transaction always commits or rolls back whole.
    A stop that arrives while the loop waits ends it within `NAP` seconds: a plain
    `time.sleep(every)` resumes after the signal, so `complaints sweep --every 3600` would have
    waited up to an hour — past any service manager's patience, which then kills the process,
    round or no round.
    """
    if not every:
        round_(0)
        return
    stopping: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda *_args: stopping.append(1))
    try:
        n = 0
        while True:
            round_(n)
            if stopping or not _wait(every, stopping):
                return
            n += 1
    finally:
        signal.signal(signal.SIGTERM, previous)


def _wait(seconds: float, stopping: list[int]) -> bool:
    """Wait `seconds` in naps of at most NAP; False if asked to stop meanwhile."""
    until = time.monotonic() + seconds
    try:
        while not stopping and (left := until - time.monotonic()) > 0:
            time.sleep(min(left, NAP))
    except KeyboardInterrupt:
        return False
    return not stopping
