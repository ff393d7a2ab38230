"""Signals the supervision engine listens to."""
from django.dispatch import Signal

# sent after a CaseEvent is recorded by a case action: case=..., event=CaseEvent
case_event = Signal()

# sent once per exchange batch by the fast path instead of `case_event` per row:
# events=[CaseEvent, ...] (unsaved copies with case_id set). A receiver that cares about
# every case event connects to both.
case_events = Signal()

# sent after an exchange batch is processed: events=[ExchangeEvent, ...] (applied, held, rejected)
exchange_processed = Signal()
