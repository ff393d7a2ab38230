"""Signals the supervision engine listens to."""
from django.dispatch import Signal

# sent after a CaseEvent is recorded: case=..., event=CaseEvent
case_event = Signal()
