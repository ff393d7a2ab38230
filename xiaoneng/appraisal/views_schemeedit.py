"""The scheme editor: write a draft scheme's indicator tree by hand (`/appraisal/schemes/<id>/edit/`) or a new
scheme's (`/appraisal/schemes/new/`), one form row per indicator, without JavaScript.

The rows go through the same `schemes.validate` as the Excel import, numbered by their row on the page, so an
error reads exactly like the import's (`第 3 行“权重”：…`) and is shown on that row and field. A blank row is
ignored (that is how an indicator is deleted); "增加行" re-shows the typed rows with empty ones added. Only the
appraisal office of the class's region (perm `appraise`) reaches these pages; an active scheme is never edited.
"""
from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from xiaoneng.orgs import access

from . import actions, schemes
from .models import MAX_LEVELS, Method, OrganClass, Scheme, SchemeStatus, Source, Target
from .views import APPRAISE, _tree

EXTRA_ROWS = 5  # empty rows offered below the tree, and added by each "增加行"
MAX_ROWS = 300  # a scheme has dozens of indicators; this only bounds what a request can make the page render
FIELDS = ("code", "parent", "name", "weight", "source", "method", "params")


def _params_text(params) -> str:
    if isinstance(params, str):
        return params
    return json.dumps(params, ensure_ascii=False) if params else ""


def _weight_text(weight) -> str:
    if isinstance(weight, Decimal):
        return format(weight.normalize(), "f")
    return "" if weight is None else str(weight)


def _saved_rows(scheme: Scheme) -> list[dict]:
    """The scheme's rows in tree order (a parent, then its children), as the form shows them."""
    return [{"code": i.code, "parent": i.parent.code if i.parent_id else "", "name": i.name,
             "weight": _weight_text(i.weight), "source": i.source, "method": i.method,
             "params": _params_text(i.params)} for i in _tree(scheme)]


def _posted_rows(post) -> list[dict]:
    try:
        count = min(max(int(post.get("rows", 0)), 0), MAX_ROWS)
    except ValueError:
        count = 0
    return [{f: post.get(f"{f}-{n}", "").strip() for f in FIELDS} for n in range(1, count + 1)]


def _is_blank(row: dict) -> bool:
    return not any(row[f] for f in FIELDS)


def _extra(value, default: int = EXTRA_ROWS) -> int:
    try:
        return min(max(int(value), 0), MAX_ROWS)
    except (TypeError, ValueError):
        return default


def _sums(rows: list[dict]) -> list[dict]:
    """Sibling groups and their weight sums, for display next to the tree (validation does the real check)."""
    by_code = {r["code"]: r for r in rows if r["code"]}
    groups: dict[str, dict] = {}
    for r in rows:
        if _is_blank(r):
            continue
        try:
            w = Decimal(r["weight"])
            if not w.is_finite():
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            w = Decimal(0)
        g = groups.setdefault(r["parent"], {"total": Decimal(0), "n": 0})
        g["total"] += w
        g["n"] += 1
    out = []
    for parent, g in groups.items():
        if not parent:
            label = gettext("一级指标")
        else:
            name = by_code[parent]["name"] if parent in by_code else ""
            label = gettext("“%(c)s %(n)s”的下级指标") % {"c": parent, "n": name}
        out.append({"label": label, "total": format(g["total"].normalize(), "f"), "n": g["n"],
                    "ok": g["total"] == schemes.HUNDRED})
    return out


def _form_rows(rows: list[dict], extra: int, error=None) -> list[dict]:
    """Rows numbered as the page shows them, with their level (for the indent) and any error on them."""
    rows = (rows + [dict.fromkeys(FIELDS, "") for _n in range(extra)])[:MAX_ROWS]
    by_code = {r["code"]: r for r in rows if r["code"]}
    out = []
    for n, r in enumerate(rows, start=1):
        level, node, seen = 1, r, set()
        while node["parent"] and node["parent"] in by_code and node["parent"] not in seen and level < MAX_LEVELS:
            seen.add(node["parent"])
            node, level = by_code[node["parent"]], level + 1
        mine = error is not None and error.row == n
        errors = {(error.field if error.field in FIELDS else "name"): error.message} if mine else {}
        out.append({**r, "n": n, "level": level if r["code"] else 1, "errors": errors})
    return out


def _submitted(post):
    """(rows for validation, their page numbers) — blank rows left out."""
    rows = _posted_rows(post)
    keep = [(n, r) for n, r in enumerate(rows, start=1) if not _is_blank(r)]
    return rows, [r for _n, r in keep], [n for n, _r in keep]


def _editor_context(rows: list[dict], extra: int, error=None) -> dict:
    return {"rows": _form_rows(rows, extra, error), "sums": _sums(rows),
            "sources": Source.choices, "methods": Method.choices, "extra_rows": EXTRA_ROWS,
            "row_error": error if error is not None and error.row else None,
            "tree_error": error.message if error is not None and not error.row and error.field != "reason" else ""}


@login_required
@require_http_methods(["GET", "POST"])
def scheme_edit(request, pk):
    scheme = access.get_scoped_or_404(Scheme.objects.select_related("organ_class"), request.user, APPRAISE, pk=pk)
    if scheme.status != SchemeStatus.DRAFT:
        # An active (or superseded) scheme is the one results were or are computed by: it gets a new version.
        return render(request, "appraisal/scheme_edit.html", {"scheme": scheme, "locked": True},
                      status=409 if request.method == "POST" else 200)
    reason, reason_error = "", ""
    if request.method == "POST":
        reason = request.POST.get("reason", "").strip()
        all_rows, rows, numbers = _submitted(request.POST)
        if request.POST.get("op") == "more":
            return render(request, "appraisal/scheme_edit.html", {
                "scheme": scheme, "reason": reason, **_editor_context(all_rows, EXTRA_ROWS)})
        error = None
        try:
            # Check the tree first so its errors are shown with the page's row numbers.
            schemes.validate(rows, numbers)
            actions.do_edit_scheme(scheme, rows=rows, reason=reason)
        except schemes.SchemeError as exc:
            error = exc
        except actions.AppraisalError as exc:
            error = exc
            error.row = None
            if exc.field == "reason":
                reason_error = exc.message
        else:
            messages.success(request, gettext("方案指标已保存"))
            return redirect("appraisal:scheme", scheme.pk)
        return render(request, "appraisal/scheme_edit.html", {
            "scheme": scheme, "reason": reason, "reason_error": reason_error, **_editor_context(all_rows, 0, error)},
            status=400)
    return render(request, "appraisal/scheme_edit.html", {
        "scheme": scheme, **_editor_context(_saved_rows(scheme), _extra(request.GET.get("extra")))})


class NewSchemeForm(forms.Form):
    organ_class = forms.ModelChoiceField(label=_("考评类别"), queryset=OrganClass.objects.none())
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    title = forms.CharField(label=_("方案名称"), max_length=200)
    target = forms.ChoiceField(label=_("考评对象"), choices=Target.choices, initial=Target.ORGAN)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organ_class"].queryset = access.scoped(OrganClass.objects.all(), user, APPRAISE)


@login_required
@require_http_methods(["GET", "POST"])
def scheme_new(request):
    if not access.has_perm(request.user, APPRAISE):
        raise Http404
    if request.method == "GET":
        form = NewSchemeForm(user=request.user)
        return render(request, "appraisal/scheme_edit.html", {
            "form": form, **_editor_context([], _extra(request.GET.get("extra"), 2 * EXTRA_ROWS))})
    form = NewSchemeForm(request.POST, user=request.user)
    all_rows, rows, numbers = _submitted(request.POST)
    if request.POST.get("op") == "more":
        # Only more rows: re-show what was typed without judging it yet.
        form = NewSchemeForm(initial=request.POST.dict(), user=request.user)
        return render(request, "appraisal/scheme_edit.html", {"form": form, **_editor_context(all_rows, EXTRA_ROWS)})
    error = None
    if form.is_valid():
        d = form.cleaned_data
        try:
            schemes.validate(rows, numbers)
            scheme = actions.do_create_scheme(organ_class=d["organ_class"], year=d["year"], title=d["title"],
                                              rows=rows, target=d["target"])
        except schemes.SchemeError as exc:
            error = exc
        except actions.AppraisalError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, gettext("已新建方案"))
            return redirect("appraisal:scheme", scheme.pk)
    return render(request, "appraisal/scheme_edit.html", {"form": form, **_editor_context(all_rows, 0, error)},
                  status=400)
