"""The `--every SECONDS` loop of the long-running commands (notify send, stats refresh, complaints sweep)."""
from __future__ import annotations

import signal
import time
from collections.abc import Callable


def repeat(round_: Callable[[int], None], every: float | None) -> None:
    """Run `round_(n)` (n = 0, 1, …) once, or every `every` seconds until stopped.

    SIGTERM (a service manager stopping the command) and Ctrl-C end the loop between rounds,
    never in the middle of one, so a round's transaction always commits or rolls back whole.
    """
    stopping: list[int] = []
    if every:
        signal.signal(signal.SIGTERM, lambda *_args: stopping.append(1))
    n = 0
    while True:
        round_(n)
        if not every or stopping:
            return
        try:
            time.sleep(every)
        except KeyboardInterrupt:
            return
        if stopping:  # not one more round once asked to stop
            return
        n += 1
