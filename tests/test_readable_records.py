"""Readable records: no page or export shows an internal code where a name belongs.

The 天河 world of tests/test_scope_audit.py (a late case with alerts and an automatic order, a
routed complaint, a bad rating) is rendered for every role on every staff page, list, detail,
dashboard and Excel export; the visible text (HTML text nodes, spreadsheet cells) is searched
for the shapes internal codes take: dotted codes (`case.legal`, `order.open`), model labels
with an id (`supervision.supervisionorder#19`), and snake_case names (`fee_above_standard`).
Strings that are data (usernames, which the personas also use as display names) are removed
first, so only the platform's own words are judged.
"""
import re
from html.parser import HTMLParser

import pytest

from tests.test_scope_audit import (  # noqa: F401  (fixtures)
    DATA_LISTS,
    ORG_LISTS,
    content,
    detail_urls,
    is_xlsx,
    sheet_rows,
    tianhe,
)
from xiaoneng.orgs.models import User

pytestmark = pytest.mark.django_db

CODE_SHAPES = [
    re.compile(r"\b[a-z][a-z_]*\.[a-z][a-z_]*#\d+"),           # supervision.supervisionorder#19
    re.compile(r"(?<![\w./@-])[a-z][a-z_]*\.[a-z][a-z_]+\b(?![\w./@-])"),  # case.legal, order.open
    re.compile(r"(?<![\w./@-])[a-z]+(?:_[a-z]+)+\b(?![\w./@-])"),  # fee_above_standard
]

PERSONAS = ["admin", "province_supervisor", "city_supervisor", "county_supervisor", "county_handler",
            "county_leader", "complaint_officer", "appraisal_officer", "auditor"]


class _Text(HTMLParser):
    """The text a reader sees: text nodes outside script/style, and the titles and labels read aloud."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self._skip = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1
        for name, value in attrs:
            if name in ("title", "aria-label", "placeholder") and value:
                self.parts.append(value)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(response) -> str:
    if is_xlsx(response):
        return "\n".join(str(v) for row in sheet_rows(response) for v in row if v is not None)
    parser = _Text()
    parser.feed(content(response).decode(errors="replace"))
    return "\n".join(parser.parts)


def codes_in(text: str) -> set[str]:
    for name in User.objects.values_list("username", flat=True):
        text = text.replace(name, " ")
    found = set()
    for shape in CODE_SHAPES:
        found.update(shape.findall(text))
    return found


def staff_urls(t) -> list[str]:
    lists = DATA_LISTS + ORG_LISTS + ["/accountability/cases/", "/accountability/proposals/", "/complaints/stats/",
                                      "/ratings/stats/"]
    urls = ["/", "/dashboard/", "/dashboard/organs/", "/dashboard/board/", "/calendar/"]
    urls += lists + [f"{u}?export=xlsx" for u in lists if "stats" not in u]
    urls += [u for u in detail_urls(t) if not u.startswith("/api/") and "/files/" not in u]
    return urls


ADMIN_PAGES = ["/admin/clocks/clock/", "/admin/audit/auditentry/", "/admin/complaints/complaint/",
               "/admin/complaints/rating/", "/admin/orgs/organ/"]


def admin_urls(t) -> list[str]:
    from xiaoneng.audit.models import AuditEntry

    entry = AuditEntry.objects.filter(action="order.open").get()
    return ADMIN_PAGES + [f"/admin/clocks/clock/{t.clock.pk}/change/", f"/admin/audit/auditentry/{entry.pk}/change/"]


@pytest.mark.parametrize("persona", PERSONAS)
def test_no_staff_page_or_export_shows_an_internal_code_to_any_role(tianhe, login, persona):  # noqa: F811
    client = login(getattr(tianhe.w, persona))
    leaks = {}
    for url in staff_urls(tianhe) + (admin_urls(tianhe) if persona == "admin" else []):
        response = client.get(url)
        if response.status_code != 200:
            continue
        found = codes_in(visible_text(response))
        if found:
            leaks[url] = sorted(found)
    assert leaks == {}, "\n".join(f"{url}: {', '.join(found)}" for url, found in leaks.items())
