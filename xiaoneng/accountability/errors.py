"""The one error of accountability's rules, in its own module so that the transition table
(workflow.py) raises it too: a step replayed (served twice, filed twice) is then the same clear
field error as any other refusal, not an exception the pages do not expect."""
from xiaoneng.lib.actions import ActionError


class AccountabilityError(ActionError):
    """A request the rules or the record's state do not allow; `field` names the input."""
