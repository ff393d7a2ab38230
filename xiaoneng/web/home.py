"""Panels that capabilities add to the home page, decided per user (like the navigation, nav.py).

    # <app>/home.py, imported from the app's ready()
    from xiaoneng.web.home import HomePanel, register
    register(HomePanel("appraisal", "appraisal/_home.html", build=panel_for, order=50))

`build(user)` returns the panel's context (a dict) or None when the user has nothing there; it
must scope through `xiaoneng.orgs.access` and cost a few queries at most.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class HomePanel:
    key: str
    template: str
    build: Callable[[object], dict | None]
    order: int = 100


_PANELS: dict[str, HomePanel] = {}


def register(panel: HomePanel) -> HomePanel:
    """Add (or replace, by key) a home-page panel."""
    _PANELS[panel.key] = panel
    return panel


def panels(user) -> list[dict]:
    """[{"template": …, "context": …}] of the panels this user has something in, in order."""
    out = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.key)):
        context = panel.build(user)
        if context:
            out.append({"key": panel.key, "template": panel.template, "context": context})
    return out
