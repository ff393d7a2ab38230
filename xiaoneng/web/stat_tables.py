"""Statistics tables that list hundreds of organs (or matters): paged, sorted, charted as top N and bottom N.

A statistics page computes its figures with a fixed number of GROUP BY queries, so every row of
its tables is in memory already (hundreds of organs, a few thousand matters at most). Paging and
sorting those rows here costs no query: the page runs the same number of queries on page 1 and
page 9, for ten organs or a thousand (the tests assert it). The Excel export of a page is built
from the same rows before paging, so it always has every row.

Each table on a page has its own parameters, prefixed with its key (`organ_page`,
`organ_per_page`, `organ_sort`), and every link is the current query string with only those
changed: paging or sorting one table keeps the filters, the other tables' pages and sorts.

Charts show the first and the last `stats_chart_top_n` rows (programme rule, default 10) of
the table's ranking, with a link to the whole paged table: a bar chart of 600 organs is
unreadable, and the interesting organs are the best and the worst.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.core.paginator import Page, Paginator

from xiaoneng.conf import rule

PER_PAGE_CHOICES = (25, 50, 100, 200)
DEFAULT_PER_PAGE = 25
# Never carried over into a table's links: an export link is a download, not a view.
DROPPED = ("export",)


@dataclass(frozen=True)
class Sort:
    """A sortable column: its header and the value rows are ordered by (None sorts last both ways)."""

    label: str
    value: Callable[[Any], Any]
    numeric: bool = False


@dataclass(frozen=True)
class SortLink:
    label: str
    href: str
    state: str  # "ascending", "descending" or "none" (aria-sort)
    numeric: bool


@dataclass
class StatTable:
    key: str
    page: Page
    sort: str
    per_page: int
    per_page_choices: Sequence[int]
    sorts: dict[str, SortLink]
    hidden: list[tuple[str, str]]  # the other parameters, kept by the page-size form
    prev_href: str | None = None
    next_href: str | None = None
    all_href: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def rows(self) -> list:
        return list(self.page.object_list)

    @property
    def total(self) -> int:
        return self.page.paginator.count

    @property
    def anchor(self) -> str:
        return f"table-{self.key}"

    @property
    def per_page_name(self) -> str:
        return f"{self.key}_per_page"


def link(params, **changes) -> str:
    """`?…` of the request's parameters with `changes` applied (None removes one)."""
    items = [(k, v) for k, values in params.lists() if k not in changes and k not in DROPPED for v in values]
    items += [(k, str(v)) for k, v in changes.items() if v is not None]
    return f"?{urlencode(items)}" if items else "?"


def sort_rows(rows: Sequence, sort: Sort, descending: bool) -> list:
    """Rows ordered by `sort.value`; rows without a value last either way; ties keep their order."""
    valued = [r for r in rows if sort.value(r) is not None]
    empty = [r for r in rows if sort.value(r) is None]
    return [*sorted(valued, key=sort.value, reverse=descending), *empty]


def _int_param(params, name: str, default: int, allowed: Sequence[int] | None = None) -> int:
    try:
        value = int(params.get(name, default))
    except (TypeError, ValueError):
        return default
    if allowed is not None and value not in allowed:
        return default
    return value


def paged(request, key: str, rows: Sequence, sorts: dict[str, Sort], default_sort: str,
          per_page: int = DEFAULT_PER_PAGE, per_page_choices: Sequence[int] = PER_PAGE_CHOICES) -> StatTable:
    """The table `key` of `rows` for this request: sorted (`<key>_sort`, `-` for descending), paged
    (`<key>_page`, `<key>_per_page`). Unknown values fall back to the defaults, never an error;
    `default_sort` "" keeps the rows in the order given."""
    params = request.GET
    sort = params.get(f"{key}_sort", default_sort)
    if sort.removeprefix("-") not in sorts:
        sort = default_sort
    name, descending = sort.removeprefix("-"), sort.startswith("-")
    # An empty default keeps the rows' own order (a choice field's order: 已登记, 已受理, …).
    ordered = sort_rows(rows, sorts[name], descending) if name else list(rows)
    size = _int_param(params, f"{key}_per_page", per_page, per_page_choices)
    page = Paginator(ordered, size).get_page(params.get(f"{key}_page"))
    page_name = f"{key}_page"
    sort_links = {}
    for column, spec in sorts.items():
        current = column == name
        # A number column sorts from the largest first on its first click, a text column from A.
        first = f"-{column}" if spec.numeric else column
        target = (column if descending else f"-{column}") if current else first
        sort_links[column] = SortLink(
            label=spec.label, numeric=spec.numeric,
            href=link(params, **{f"{key}_sort": target, page_name: None}) + f"#table-{key}",
            state=("descending" if descending else "ascending") if current else "none")
    hidden = [(k, v) for k, values in params.lists() if k not in (page_name, f"{key}_per_page", *DROPPED)
              for v in values]
    table = StatTable(key=key, page=page, sort=sort, per_page=size, per_page_choices=per_page_choices,
                      sorts=sort_links, hidden=hidden,
                      all_href=link(params, **{page_name: None}) + f"#table-{key}")
    if page.has_previous():
        table.prev_href = link(params, **{page_name: page.previous_page_number()}) + f"#table-{key}"
    if page.has_next():
        table.next_href = link(params, **{page_name: page.next_page_number()}) + f"#table-{key}"
    return table


def chart_n() -> int:
    return int(rule("stats_chart_top_n"))


def top_bottom(rows: Sequence, value: Callable[[Any], Any], n: int | None = None) -> tuple[list, list]:
    """The `n` rows with the highest value and the `n` with the lowest (rows without a value left
    out), both from the highest down; when there are no more than 2n rows, all of them and no bottom."""
    n = chart_n() if n is None else n
    return split_ranked(sort_rows([r for r in rows if value(r) is not None], Sort("", value), descending=True), n)


def split_ranked(ranked: Sequence, n: int) -> tuple[list, list]:
    """The first and the last `n` of a ranking already in order (a page with its own tie rules)."""
    ranked = list(ranked)
    if len(ranked) <= 2 * n:
        return ranked, []
    return ranked[:n], ranked[-n:]


def chart_pair(title: str, rows: Sequence, value: Callable[[Any], Any], label: Callable[[Any], str],
               n: int | None = None, **extra) -> dict:
    """Chart data {top, bottom, n, total} for a ranking: `top` and `bottom` are each
    {title, labels, values, …extra} (bottom is None when every row fits in `top`)."""
    n = chart_n() if n is None else n
    top, bottom = top_bottom(rows, value, n)

    def data(part):
        return {"title": title, "labels": [label(r) for r in part], "values": [value(r) for r in part], **extra}

    return {"top": data(top), "bottom": data(bottom) if bottom else None, "n": n, "total": len(rows),
            "split": bool(bottom)}
