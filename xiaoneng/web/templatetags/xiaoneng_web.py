"""Template helpers for list pages: sortable column headers.

Paging links use Django's own `{% querystring %}` tag; a sort header needs a little
more (which way the column sorts now, `aria-sort`, and dropping the page number).
"""
from django import template

register = template.Library()


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
