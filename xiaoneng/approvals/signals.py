"""Signals the supervision engine listens to."""
from django.dispatch import Signal

# sent after a CaseEvent is recorded by a case action: case=..., event=CaseEvent
case_event = Signal()

# sent once per exchange batch by the fast path instead of `case_event` per row, after the
# rows are written: events=[row, ...], each the written CaseEvent row readable as attributes
# (id/pk, case_id, kind, at, data, actor_label), not a model instance. A receiver that cares
# about every case event connects to both.
case_events = Signal()

# sent after an exchange batch is processed: events=[...] (applied, held, rejected), each an
# ExchangeEvent or the batch's written row of one, readable as the same attributes
exchange_processed = Signal()
