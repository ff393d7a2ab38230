"""Signals other capabilities listen to (supervision counts early completions)."""
from django.dispatch import Signal

# sent by do_stop_clock with clock=..., at=...
clock_stopped = Signal()
