"""Template helpers for list pages: sortable column headers, deadlines in the law's words.

Paging links use Django's own `{% querystring %}` tag; a sort header needs a little
more (which way the column sorts now, `aria-sort`, and dropping the page number).
"""
from django import template

from xiaoneng.clocks.explain import deadline_label

register = template.Library()


@register.filter
def deadline(moment) -> str:
    """A deadline as the law says it ("2026-11-25 24:00", not "2026-11-26 00:00"): `clocks.explain.deadline_label`,
    the one form pages, exports, messages and the API's `due_label` show."""
    return deadline_label(moment)


@register.inclusion_tag("web/_sort_th.html", takes_context=True)
def sort_th(context, key: str, label: str, numeric: bool = False):
    """A `<th>` whose link sorts by `key`, toggling the direction if it already does."""
    request = context["request"]
    current = context.get("sort", "")
    if current == key:
        state, target = "ascending", f"-{key}"
    elif current == f"-{key}":
        state, target = "descending", key
    else:
        state, target = "none", key
    params = request.GET.copy()
    params["sort"] = target
    params.pop("page", None)
    params.pop("export", None)
    return {
        "label": label,
        "state": state,
        "href": f"?{params.urlencode()}",
        "path": request.path,
        "numeric": numeric,
        "results_id": context.get("results_id", "list-results"),
    }


@register.filter
def minutes(value) -> int:
    """A timedelta as whole minutes (rounded up), for "try again in N minutes"."""
    try:
        seconds = value.total_seconds()
    except AttributeError:
        return 0
    return int(-(-seconds // 60))


@register.filter
def clock_kind(kind: str) -> str:
    """A clock kind (`case.legal`) in words (法定时限): xiaoneng.web.names."""
    from xiaoneng.web.names import clock_kind as name

    return name(kind)


@register.filter
def rule_title(code: str) -> str:
    """A supervision rule code in words: the rule's own title."""
    from xiaoneng.web.names import rule_title as name

    return name(code)
