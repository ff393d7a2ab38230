"""The audit log as a register an auditor reads: who, what, on what, when, before and after — in words.

Storage keeps codes (they are what the hash covers); this module only words them for a page
or an export, a page (or an export chunk) at a time, with one query per kind of name it
looks up (the actors and their roles, and each referenced model's names) — never one per row.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import models
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from xiaoneng.web import names

from .models import AuditEntry

# Object type → (URL name of its page, what the reader must be allowed to see it).
# The entry is already in the reader's region (the log is scoped like everything else).
PAGES = {
    "approvals.case": ("approvals:case", "case.view"),
    "approvals.matter": ("approvals:matter", "case.view"),
    "clocks.clock": ("clocks:detail", "clock.view"),
    "supervision.alert": ("supervision:alert", "supervise"),
    "supervision.supervisionorder": ("supervision:order", "supervise"),
    "complaints.complaint": ("complaints:detail", "complaint.view"),
    "complaints.rating": ("ratings:detail", "rating.view"),
    "orgs.organ": ("orgs:organ", "org.view"),
    "accountability.case": ("accountability:case", "accountability.view"),
}

@dataclass
class Change:
    field: str
    before: str = ""
    after: str = ""
    single: bool = False  # one value (what was recorded), not a before/after pair

    @property
    def text(self) -> str:
        if self.single:
            return _("%(field)s：%(value)s") % {"field": self.field, "value": self.after}
        return _("%(field)s：%(before)s → %(after)s") % {"field": self.field, "before": self.before, "after": self.after}


@dataclass
class Row:
    entry: AuditEntry
    who: str = ""
    role: str = ""
    what: str = ""
    object_type: str = ""
    object_name: str = ""
    url: str = ""
    when: datetime | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def changes_text(self) -> str:
        return _("；").join(c.text for c in self.changes)


actor_words = names.actor_words


def _roles(actor_ids) -> dict[int, tuple[str, str]]:
    from xiaoneng.orgs.models import Role, User

    found = {}
    for user in User.objects.filter(pk__in=actor_ids).prefetch_related("grants"):
        roles = sorted({str(Role(g.role).label) for g in user.grants.all() if g.role in Role.values})
        found[user.pk] = (user.display_name or user.username, "、".join(roles))
    return found


def _is_pair(value) -> bool:
    return isinstance(value, list) and len(value) == 2 and not any(isinstance(v, (list, dict)) for v in value)


class _Names:
    """Foreign keys named in a batch of entries, looked up once per model."""

    def __init__(self):
        self.wanted: dict[type, set] = defaultdict(set)
        self.found: dict[tuple[type, str], str] = {}

    def want(self, model, value):
        if model is not None and value not in (None, ""):
            self.wanted[model].add(value)

    def load(self):
        for model, pks in self.wanted.items():
            clean = [pk for pk in pks if isinstance(pk, (int, str))]
            try:
                for obj in model._default_manager.filter(pk__in=clean):
                    self.found[(model, str(obj.pk))] = str(obj)
            except (ValueError, TypeError):
                continue

    def name(self, model, value) -> str:
        return self.found.get((model, str(value)), _("已删除的%(what)s") % {"what": model._meta.verbose_name})


def _time_words(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        return value if len(value) <= 10 else None
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def _value_words(model_field, value, lookups: _Names) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if model_field is not None:
        if isinstance(model_field, models.ForeignKey):
            return lookups.name(model_field.related_model, value)
        if model_field.choices:
            return str(dict(model_field.flatchoices).get(value, value))
        if isinstance(model_field, models.JSONField):
            return _("（结构化数据）")
    if isinstance(value, str):
        timed = _time_words(value) if re.match(r"^\d{4}-\d{2}-\d{2}", value) else None
        return timed or value
    if isinstance(value, (list, dict)):
        return _("（结构化数据）")
    return str(value)


def _alerts_words(value) -> str:
    """The `supervision.raise` batch: [[alert id, rule code, level], …] as the rules' titles."""
    counts: dict[str, int] = defaultdict(int)
    for item in value if isinstance(value, list) else []:
        if isinstance(item, list) and len(item) >= 2:
            counts[names.rule_title(item[1])] += 1
    return "、".join(f"{title} ×{n}" for title, n in counts.items())


def present(entries, user=None) -> list[Row]:
    """Rows in words for `entries` (a page or a chunk), with links the reader may follow."""
    from xiaoneng.orgs import access

    entries = list(entries)
    roles = _roles({e.actor_id for e in entries if e.actor_id})
    lookups = _Names()
    plan = []
    for e in entries:
        model = names.model_of(e.object_type)
        items = []
        for key, value in (e.changes or {}).items():
            model_field = names.field_of(model, key)
            fk_model = model_field.related_model if isinstance(model_field, models.ForeignKey) else None
            pair = e.action in ("create", "update", "delete") or (_is_pair(value) and e.action != "supervision.raise")
            for v in (value if pair and isinstance(value, list) else [value]):
                lookups.want(fk_model, v)
            items.append((key, model_field, value, pair))
        plan.append((e, model, items))
    lookups.load()
    allowed = {perm: access.has_perm(user, perm) for _url, perm in PAGES.values()} if user is not None else {}
    rows = []
    for e, model, items in plan:
        who, role = roles.get(e.actor_id, (actor_words(e.actor_label), ""))
        if not e.actor_id and e.channel in (AuditEntry.Channel.SYSTEM, AuditEntry.Channel.COMMAND):
            role = _("系统")
        row = Row(entry=e, who=who, role=role, what=names.action_name(e.action),
                  object_type=names.object_type_name(e.object_type), object_name=e.object_repr,
                  when=timezone.localtime(e.at))
        page = PAGES.get(e.object_type)
        if page and allowed.get(page[1]) and e.object_id.isdigit():
            try:
                row.url = reverse(page[0], args=[int(e.object_id)])
            except NoReverseMatch:
                row.url = ""
        for key, model_field, value, pair in items:
            label = names.field_name(model, key)
            if key == "alerts" and e.action == "supervision.raise":
                row.changes.append(Change(label, after=_alerts_words(value), single=True))
            elif pair and isinstance(value, list) and len(value) == 2:
                row.changes.append(Change(label, _value_words(model_field, value[0], lookups),
                                          _value_words(model_field, value[1], lookups)))
            else:
                row.changes.append(Change(label, after=_value_words(model_field, value, lookups), single=True))
        rows.append(row)
    return rows
