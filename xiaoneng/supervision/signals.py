"""Signals other capabilities listen to (the staff inbox notifies the organs concerned)."""
from django.dispatch import Signal

# sent by engine.raise_findings inside its transaction: alerts=[(alert id, Finding), ...] newly raised
alerts_raised = Signal()

# sent by actions.do_open_order inside its transaction: order=SupervisionOrder
order_opened = Signal()
