"""Signals other capabilities listen to (supervision counts early completions)."""
from django.dispatch import Signal

# sent by do_stop_clock with clock=..., at=...
clock_stopped = Signal()

# sent for many stops at once by bulk writers (the exchange fast path): stopped=[(clock, at), ...]
clocks_stopped = Signal()
