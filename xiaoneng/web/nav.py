"""The page shell's navigation and banners, decided per user through the scoping module.

Each entry says who may see it (`perm` checked with `access.has_perm`, or a predicate
for things that are not permissions, such as Django's staff flag). Later capabilities
add their entries with `register()` from their app's `ready()`, so the navigation grows
without anyone editing this file:

    from xiaoneng.web.nav import NavItem, register
    register(NavItem("complaints", _("效能投诉"), "/complaints/", section="supervision",
                     perm="complaint.handle", order=30))

The context is lazy: admin pages and JSON views also run context processors, and they
should not pay for navigation they never render.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.orgs.models import Role

SECTIONS: list[tuple[str, str]] = [
    ("workbench", _("工作台")),
    ("orgs", _("机构与人员")),
    ("supervision", _("电子监察")),
    ("system", _("系统管理")),
]


@dataclass(frozen=True)
class NavItem:
    key: str
    label: str
    target: str  # a URL name ("orgs:index") or a path ("/calendar/")
    section: str = "workbench"
    perm: str | None = None  # an access permission; None = any signed-in user
    check: Callable[[object], bool] | None = None  # extra predicate on the user
    order: int = 100

    def url(self) -> str:
        if self.target.startswith("/"):
            return self.target
        try:
            return reverse(self.target)
        except NoReverseMatch:  # a capability that is not routed in this deployment
            return ""

    def allowed(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        if self.perm and not access.has_perm(user, self.perm):
            return False
        return self.check(user) if self.check else True


def _is_staff(user) -> bool:
    return bool(user.is_active and user.is_staff)


def _has_any_role(user) -> bool:
    return bool(access.roles(user)) or _is_staff(user) or bool(getattr(user, "is_superuser", False))


_ITEMS: dict[str, NavItem] = {}


def register(item: NavItem) -> NavItem:
    """Add (or replace, by key) a navigation entry."""
    _ITEMS[item.key] = item
    return item


for _item in (
    NavItem("home", _("首页"), "home", section="workbench", order=0),
    NavItem("orgs", _("组织机构"), "orgs:index", section="orgs", perm="org.view", order=10),
    NavItem("staff", _("工作人员"), "orgs:staff", section="orgs", perm="org.view", order=20),
    NavItem("calendar", _("工作日历"), "/calendar/", section="supervision", perm="calendar.view", order=10),
    NavItem("clocks", _("时限"), "/clocks/", section="supervision", perm="clock.view", order=20),
    NavItem("audit", _("审计日志"), "/audit/", section="system", perm="audit.view", order=10),
    NavItem("admin", _("后台管理"), "/admin/", section="system", check=_is_staff, order=20),
    NavItem("api-docs", _("API 文档"), "/api/v1/docs/", section="system", check=_has_any_role, order=30),
):
    register(_item)


def items_for(user) -> list[NavItem]:
    return sorted((i for i in _ITEMS.values() if i.allowed(user)), key=lambda i: i.order)


def _is_active(path: str, url: str) -> bool:
    if not url:
        return False
    if url == "/":
        return path == "/"
    return path == url or path.startswith(url)


def menu(request) -> list[dict]:
    """Sections with their visible entries, in order; empty sections are dropped."""
    user = request.user
    path = request.path
    visible = items_for(user)
    urls = {item.key: item.url() for item in visible}
    # The most specific matching entry is the active one (/orgs/staff/ over /orgs/).
    matches = [k for k, u in urls.items() if _is_active(path, u)]
    active = max(matches, key=lambda k: len(urls[k]), default=None)
    sections = []
    for key, label in SECTIONS:
        entries = [
            {"key": i.key, "label": i.label, "url": urls[i.key], "active": i.key == active}
            for i in visible
            if i.section == key and urls[i.key]
        ]
        if entries:
            sections.append({"key": key, "label": label, "items": entries})
    return sections


def role_labels(user) -> list[str]:
    """The user's roles as display labels, in the order of the Role enumeration."""
    held = access.roles(user)
    labels = [label for value, label in Role.choices if value in held]
    if not labels and getattr(user, "is_superuser", False):
        labels = [_("超级管理员")]
    return labels


def _banners(request) -> list[dict]:
    from xiaoneng.calendar.status import next_year_warning

    banners = []
    if getattr(request.user, "is_authenticated", False):
        text = next_year_warning(request.user)
        if text:
            banners.append({"level": "warning", "text": text})
    return banners


def shell_context(request) -> dict:
    """Context for templates/web/base.html; every value is computed on first use."""
    return {
        "nav_sections": SimpleLazyObject(lambda: menu(request)),
        "shell_roles": SimpleLazyObject(lambda: role_labels(request.user)),
        "shell_banners": SimpleLazyObject(lambda: _banners(request)),
    }
