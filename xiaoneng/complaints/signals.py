"""Signals other capabilities listen to (the staff inbox notifies the organ)."""
from django.dispatch import Signal

# sent by actions.do_route inside its transaction when a complaint is routed to an organ: complaint=Complaint
complaint_routed = Signal()
