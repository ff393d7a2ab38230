"""Every list page in one shape: filtered, sorted, paged, exported to Excel, refreshed by htmx.

A list page subclasses `ListPage` and says four things:

1. `get_queryset()` — the rows the user may see (always through `access.scoped`);
2. `form_class` — a GET form whose `filter(queryset)` applies the filters;
3. `sorts` — the whitelist of sort keys, each a tuple of `order_by` fields
   (`?sort=-name` reverses every field, so ties break the same way both ways);
4. `columns` — the Excel export: header and value of each column.

The same URL serves the full page, the htmx partial (only the results block, when the
filter form changes) and `?export=xlsx` (exactly the filtered, sorted rows, every page).
Without JavaScript the filter form is a plain GET form, so everything still works.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.paginator import Paginator
from django.forms.models import ModelChoiceIterator
from django.shortcuts import render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.html import conditional_escape
from django.utils.safestring import SafeData, mark_safe
from django.views import View

from xiaoneng.lib.xlsx import xlsx_response


@dataclass(frozen=True)
class Column:
    """One export column: a header and how to get the cell from a row."""

    label: str
    value: Callable[[Any], Any]


def _attrs_html(attrs: dict) -> str:
    # As django/forms/widgets/attrs.html: False leaves the attribute out, True writes its bare name.
    return "".join(
        f" {conditional_escape(name)}" if value is True else f' {conditional_escape(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _text(value) -> str:
    # As `{{ value|stringformat:"s" }}`: text already marked safe stays as it is, anything else is escaped.
    return conditional_escape(value if isinstance(value, SafeData) else str(value))


class FastSelect(forms.Select):
    """A `<select>` rendered in Python, byte for byte what Django's select.html and select_option.html give.

    Why: the template renders one `{% include %}` per option (plus one for its attributes), and a
    province's organ or matter menu has hundreds of options: that was most of a list page's rendering
    time (`/cases/`: 800 includes per request). Filter forms get it automatically (see FilterForm).
    """

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        out = [f'<select name="{conditional_escape(widget["name"])}"{_attrs_html(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if group_name:
                out.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
            for option in group_choices:
                out.append(f'\n  <option value="{_text(option["value"])}"{_attrs_html(option["attrs"])}>'
                           f'{conditional_escape(option["label"])}</option>\n')  # select_option.html ends with a newline
            if group_name:
                out.append("\n  </optgroup>")
        out.append("\n</select>")
        return mark_safe("".join(out))  # every piece above is escaped


class _FetchedChoiceIterator(ModelChoiceIterator):
    """A model menu's options from one plain fetch.

    Django iterates a menu's queryset with `.iterator()`, which on PostgreSQL outside a transaction
    is a server-side cursor declared WITH HOLD: the whole result is materialised at commit, and the
    DECLARE/FETCH/CLOSE round trips cost more than the menu (30 ms per menu seen on `/cases/`). A
    menu is a few hundred rows at most, so a plain fetch is both cheaper and small.
    """

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset:
            yield self.choice(obj)


class FilterForm(forms.Form):
    """Base for list filter forms. Subclasses narrow a queryset in `filter()`.

    Its plain `<select>` menus render through `FastSelect` (same HTML, without a template per option).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            if type(field.widget) is forms.Select:
                field.widget.__class__ = FastSelect  # keeps its choices, attributes and any later queryset
            if isinstance(field, forms.ModelChoiceField) and field.iterator is ModelChoiceIterator:
                field.iterator = _FetchedChoiceIterator
                field.widget.choices = field.choices  # a later `field.queryset = …` sets them again the same way

    def filter(self, queryset):
        return queryset


def date_input():
    """A date field's widget: the browser's own date picker."""
    return forms.DateInput(attrs={"type": "date"})


def on_days(queryset, field: str, first=None, last=None):
    """Rows whose moment `field` falls on the local days `first` to `last`, both included (either may be None).

    Days are the platform's time zone: a case received at 23:30 on 12-01 in Beijing is on 12-01, not on
    the UTC day it is stored under.
    """
    zone = timezone.get_current_timezone()
    if first:
        queryset = queryset.filter(**{f"{field}__gte": datetime.combine(first, time(0), zone)})
    if last:
        queryset = queryset.filter(**{f"{field}__lt": datetime.combine(last + timedelta(days=1), time(0), zone)})
    return queryset


def reverse_order(fields: Iterable[str]) -> tuple[str, ...]:
    return tuple(f[1:] if f.startswith("-") else f"-{f}" for f in fields)


class ListPage(LoginRequiredMixin, View):
    template_name: str = ""
    partial_template_name: str = ""
    form_class: type[FilterForm] = FilterForm
    sorts: dict[str, tuple[str, ...]] = {}
    default_sort: str = ""
    per_page: int = 25
    per_page_choices: tuple[int, ...] = (25, 50, 100)
    columns: list[Column] = []
    export_name: str = "export"  # file name stem; the date is appended
    results_id: str = "list-results"

    def get_queryset(self):
        raise NotImplementedError

    def get_form_kwargs(self) -> dict:
        return {}

    def get_extra_context(self, page, form) -> dict:
        return {}

    def export_rows(self, queryset) -> Iterable:
        """The export queryset as an iterable of rows; override to prefetch or post-process."""
        return queryset.iterator(chunk_size=2000)

    # -- request handling --------------------------------------------------------------
    def current_sort(self) -> str:
        wanted = self.request.GET.get("sort", "")
        key = wanted.removeprefix("-")
        return wanted if key in self.sorts else self.default_sort

    def order_fields(self, sort: str) -> tuple[str, ...]:
        fields = self.sorts[sort.removeprefix("-")]
        return reverse_order(fields) if sort.startswith("-") else tuple(fields)

    def current_per_page(self) -> int:
        try:
            value = int(self.request.GET.get("per_page", self.per_page))
        except ValueError:
            return self.per_page
        return value if value in self.per_page_choices else self.per_page

    def filtered(self):
        """(form, queryset, sort): the scoped, filtered, sorted rows of the request.

        The page, its export and a background export job (xiaoneng.exports) all use this.
        """
        # A filter form is always bound: absent parameters are simply empty filters.
        form = self.form_class(self.request.GET, **self.get_form_kwargs())
        queryset = self.get_queryset()
        # An invalid filter (say, a region outside the user's scope) shows nothing rather
        # than silently dropping the filter: an export must never widen unexpectedly.
        queryset = form.filter(queryset) if form.is_valid() else queryset.none()
        sort = self.current_sort()
        if sort:
            queryset = queryset.order_by(*self.order_fields(sort))
        return form, queryset, sort

    def get(self, request, *args, **kwargs):
        form, queryset, sort = self.filtered()
        if request.GET.get("export") == "xlsx":
            return self.export(queryset)
        paginator = Paginator(queryset, self.current_per_page())
        page = paginator.get_page(request.GET.get("page"))
        context = {
            "form": form,
            "page": page,
            "rows": page.object_list,
            "sort": sort,
            "results_id": self.results_id,
            "per_page": paginator.per_page,
            "per_page_choices": self.per_page_choices,
            **self.get_extra_context(page, form),
        }
        template = self.partial_template_name if self.wants_fragment() else self.template_name
        response = render(request, template, context)
        # The same URL answers with a fragment or a page: caches must keep them apart.
        patch_vary_headers(response, ["HX-Request", "HX-Request-Type", "HX-History-Restore-Request"])
        return response

    def wants_fragment(self) -> bool:
        """Only the results block: an htmx request aimed at part of the page.

        A boosted link and a history restore (the Back button) replace the whole body,
        so they get the whole page; htmx 4 also says so itself with HX-Request-Type.
        """
        htmx = getattr(self.request, "htmx", None)
        if not htmx or htmx.boosted or htmx.history_restore_request:
            return False
        return htmx.request_type != "full"

    def export_table(self, queryset) -> tuple[list[str], Iterable]:
        """Headers and rows (plain values) of the export; a list may override it with a faster
        `values_list` version for large exports (see ClockList)."""
        columns = self.columns
        rows = ([column.value(obj) for column in columns] for obj in self.export_rows(queryset))
        return [str(c.label) for c in columns], rows

    def export(self, queryset):
        # A large export becomes a background job (xiaoneng.exports); the user follows it on 我的导出.
        from xiaoneng.exports.views import export_or_queue

        queued = export_or_queue(self, queryset)
        if queued is not None:
            return queued
        headers, rows = self.export_table(queryset)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return xlsx_response(f"{self.export_name}-{stamp}.xlsx", str(self.export_name), headers, rows)
