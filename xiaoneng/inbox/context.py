"""The header's badge: what waits for the user and their unread notifications, computed on first use."""
from django.utils.functional import SimpleLazyObject


def _badge(request, user) -> dict:
    from . import todo
    from .models import Notification

    known = getattr(request, "inbox_todo_total", None)  # the home page counted it already
    return {"todo": todo.total(user) if known is None else known,
            "unread": Notification.objects.filter(recipient=user, read_at__isnull=True).count()}


def badge(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox_badge": SimpleLazyObject(lambda: _badge(request, user))}
