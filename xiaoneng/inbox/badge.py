"""The header's badge: how much waits for the user (待办) and their unread notifications.

Every page shows it, fetched after the page loaded (`views.badge`, htmx), so no page pays
for it in its own response time or query count. The two numbers are kept in the cache for
`BADGE_SECONDS` per user and computed only when missing. The home page always computes
the to-do exactly and refreshes the cached badge; a new notification or marking one read
drops the recipient's cached badge (`forget`), so the unread count is exact and the to-do
count on other pages at most `BADGE_SECONDS` old.
"""
from django.core.cache import cache

BADGE_SECONDS = 60


def _key(user_id) -> str:
    return f"inbox:badge:{user_id}"


def forget(user_ids) -> None:
    cache.delete_many([_key(u) for u in user_ids])


def remember(user, todo_total: int) -> dict:
    from .models import Notification

    value = {"todo": todo_total,
             "unread": Notification.objects.filter(recipient=user, read_at__isnull=True).count()}
    cache.set(_key(user.pk), value, BADGE_SECONDS)
    return value


def numbers(user) -> dict:
    from . import todo

    value = cache.get(_key(user.pk))
    return value if value is not None else remember(user, todo.total(user))
