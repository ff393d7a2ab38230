"""One case's events, replayed in order, with the waiting ones retried as the case moves.

Both paths use this loop, so they agree on what is applied, held or refused, and in
what order:

1. The case's events — those of the batch and those still held from earlier batches
   — are taken in `occurred_at` order.
2. Each is offered to an applier, which answers applied, hold, reject or hand over.
   A held event waits in `pending`.
3. After every applied event, the pending ones are offered again, oldest first; as
   soon as one applies, the offering starts again from the oldest, since the case
   has moved.

The fast path's applier answers "hand over" for what it does not take; the loop
then stops where it is, and the per-event applier resumes it later, from the same
place, after the fast path has written what it did.
"""
from __future__ import annotations

from collections import deque

from .rules import HOLD, Verdict

APPLIED = "applied"
HANDOVER = "handover"
HAND_OVER = Verdict(HANDOVER)


class CaseReplay:
    def __init__(self, case_no: str, events: list):
        self.case_no = case_no
        self.events = list(events)
        self.queue = deque(events)
        self.pending: list = []
        self.outcomes: dict[int, Verdict] = {}  # id(event) → last verdict
        self.must_drain = False
        self.handed = False  # went through the per-event path (all of them when the fast path is off)

    def run(self, applier) -> bool:
        """Offer the events to `applier`; False when it handed over (the replay can be resumed)."""
        while True:
            if self.must_drain and not self._drain(applier):
                return False
            if not self.queue:
                return True
            ev = self.queue[0]
            verdict = applier(ev)
            if verdict.action == HANDOVER:
                return False
            self.queue.popleft()
            self.outcomes[id(ev)] = verdict
            if verdict.action == HOLD:
                self.pending.append(ev)
            elif verdict.action == APPLIED:
                self.must_drain = bool(self.pending)

    def _drain(self, applier) -> bool:
        moved = True
        while moved:
            moved = False
            for ev in list(self.pending):
                verdict = applier(ev)
                if verdict.action == HANDOVER:
                    return False
                self.outcomes[id(ev)] = verdict
                if verdict.action == HOLD:
                    continue
                self.pending.remove(ev)
                if verdict.action == APPLIED:
                    moved = True
                    break
        self.must_drain = False
        return True

    def verdict(self, ev) -> Verdict | None:
        return self.outcomes.get(id(ev))
