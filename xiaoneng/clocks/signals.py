"""Signals other capabilities listen to (supervision counts early completions)."""
from django.dispatch import Signal

# sent by do_stop_clock with clock=..., at=...
clock_stopped = Signal()

# sent for many stops at once by bulk writers (the exchange fast path): stopped=[(clock, at), ...],
# each clock a Clock or the writer's row of one, readable as attributes (at least pk, kind, state,
# stopped_at, start_at, due_at, subject_type_id, subject_id, organ_id, region_code)
clocks_stopped = Signal()
