"""Signals the supervision engine listens to."""
from django.dispatch import Signal

# sent after a CaseEvent is recorded: case=..., event=CaseEvent
case_event = Signal()

# sent after an exchange batch is processed: events=[ExchangeEvent, ...] (applied, held, rejected)
exchange_processed = Signal()
