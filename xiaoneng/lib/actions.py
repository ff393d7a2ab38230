"""What the actions of every app share: an error that names the input it is about, and the two
checks of input nearly every action makes (a moment with its zone, a required text within a limit).

Each app subclasses `ActionError` (`CaseError`, `ComplaintError`, …) so that a caller can tell
whose rule refused, while forms and API views read `message` and `field` the same way everywhere.
"""
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _


class ActionError(ValueError):
    """A request the rules or the record's state do not allow; `field` names the input."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message, self.field = message, field

    @classmethod
    def moment(cls, at, field: str = "at") -> datetime:
        """`at`, or now when it is None. A time without a zone is refused: read in Beijing or in
        UTC it names two moments eight hours apart, and a deadline counted from it would be wrong."""
        if at is None:
            return timezone.now()
        if not isinstance(at, datetime):
            raise cls(_("时间格式不正确"), field)
        if timezone.is_naive(at):
            raise cls(_("时间缺少时区"), field)
        return at

    @classmethod
    def text(cls, text, field: str, message: str, limit: int = 5000) -> str:
        """The stripped text; `message` when it is empty (or not text at all), a clear error when too long."""
        text = text.strip() if isinstance(text, str) else ""
        if not text:
            raise cls(message, field)
        if len(text) > limit:
            raise cls(_("内容过长：最多 %(n)d 字") % {"n": limit}, field)
        return text
