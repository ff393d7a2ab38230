"""One timeline for every record page (cases, complaints, ratings, alerts, orders).

Each page turns its own steps into `Entry`s; `web/_timeline.html` draws them the same
way everywhere: time, title, a muted note (a status change, an organ), a badge, detail
lines, an attachment link and who acted.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.utils.translation import gettext as _


@dataclass
class Entry:
    at: datetime
    title: str
    details: list[str] = field(default_factory=list)
    actor: str = ""
    note: str = ""
    badge: str = ""
    badge_level: str = ""
    file_url: str = ""
    file_label: str = ""
    kind: str = ""
    order: tuple = ()


def actor_name(label: str, actor=None) -> str:
    """Who acted, as a reader should see it ("system" is the platform itself)."""
    if actor is not None:
        return str(actor)
    from xiaoneng.web.names import actor_words

    return _("系统") if label == "system" else actor_words(label)


def status_note(step) -> str:
    """"from → to" for a step that changed a status, else empty."""
    if not getattr(step, "from_status", ""):
        return ""
    return f"{step.get_from_status_display()} → {step.get_to_status_display()}"
