"""The organisation browser: region tree → organs → units → posts → staff.

Every query starts from `access.scoped(..., "org.view")`; a single object outside the
user's scope is a 404 (`get_scoped_or_404`), exactly like one that does not exist.
Links to related organs (a parent, a child) are only drawn when that organ is in scope
too, so a page never names what its reader may not open.
"""
from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from xiaoneng.lib.codes import normalise_region_code
from xiaoneng.orgs import access
from xiaoneng.orgs.models import PREFIX_LENGTH, Organ, Post, Region, Staff, Unit
from xiaoneng.web.lists import Column, ListPage

from .filters import PERM, OrganFilterForm, StaffFilterForm, build_tree, tree_regions

STAFF_PREVIEW = 50


def _active_staff_count():
    """Active staff per organ as a correlated subquery (no join fan-out, no GROUP BY)."""
    counts = (
        Staff.objects.filter(organ=OuterRef("pk"), is_active=True)
        .order_by()
        .values("organ")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def visible_organ_ids(user, ids) -> set[int]:
    """Which of `ids` (a collection or a values() queryset) the user may open."""
    return set(access.scoped(Organ.objects.filter(pk__in=ids), user, PERM).values_list("pk", flat=True))


def scoped_posts_of_staff(user) -> Prefetch:
    """A person may hold a post in another organ (a secondment): name only posts in scope."""
    posts = access.scoped(Post.objects.only("id", "title", "organ_id"), user, PERM).order_by("title")
    return Prefetch("posts", queryset=posts)


def region_crumbs(user, region: Region, *, include_self: bool = False) -> list[Region]:
    """The region's ancestors (and itself, if asked) that are in the user's scope, top down."""
    heads = {region.code[:n] for level, n in PREFIX_LENGTH.items() if level < region.level}
    if include_self:
        heads.add(region.prefix)
    if not heads:
        return []
    return list(access.scoped(Region.objects.filter(prefix__in=heads), user, PERM).order_by("level"))


class RegionTreeMixin:
    """The scoped region tree, fetched once per request and shared with the filter form."""

    def tree_regions(self):
        if not hasattr(self, "_tree_regions"):
            self._tree_regions = tree_regions(self.request.user)
        return self._tree_regions

    def get_form_kwargs(self):
        return {"user": self.request.user, "regions": self.tree_regions()}


def _yes_no(value: bool) -> str:
    return str(_("是") if value else _("否"))


class OrganList(RegionTreeMixin, ListPage):
    template_name = "orgs/index.html"
    partial_template_name = "orgs/_organ_results.html"
    form_class = OrganFilterForm
    results_id = "organ-results"
    sorts = {
        "name": ("name", "pk"),
        "region": ("region_code", "name", "pk"),
        "kind": ("kind", "name", "pk"),
        "staff": ("staff_count", "name", "pk"),
    }
    default_sort = "region"
    export_name = _("机关单位")

    def get_queryset(self):
        qs = Organ.objects.select_related("region", "parent").annotate(staff_count=_active_staff_count())
        return access.scoped(qs, self.request.user, PERM)

    def get_extra_context(self, page, form):
        user = self.request.user
        parents = {o.parent_id for o in page.object_list if o.parent_id}
        regions = {o.region_id for o in page.object_list}
        selected = form.selected_region() if form.is_valid() else None
        return {
            "tree": build_tree(self.tree_regions(), selected.code if selected else ""),
            "visible_parents": visible_organ_ids(user, parents) if parents else set(),
            "visible_regions": set(
                access.scoped(Region.objects.filter(pk__in=regions), user, PERM).values_list("pk", flat=True)
            )
            if regions
            else set(),
            "selected_region": selected,
        }

    def export(self, queryset):
        self._export_parents = visible_organ_ids(self.request.user, queryset.values("parent_id"))
        return super().export(queryset)

    @property
    def columns(self):
        parents = getattr(self, "_export_parents", set())
        return [
            Column(_("名称"), lambda o: o.name),
            Column(_("简称"), lambda o: o.short_name),
            Column(_("统一社会信用代码"), lambda o: o.credit_code),
            Column(_("类别"), lambda o: str(o.get_kind_display())),
            Column(_("所在区划"), lambda o: o.region.name),
            Column(_("区划代码"), lambda o: o.region.code),
            Column(_("上级机关"), lambda o: o.parent.name if o.parent_id in parents else ""),
            Column(_("在职人员"), lambda o: o.staff_count),
            Column(_("有效"), lambda o: _yes_no(o.is_active)),
        ]


class StaffList(RegionTreeMixin, ListPage):
    template_name = "orgs/staff.html"
    partial_template_name = "orgs/_staff_results.html"
    form_class = StaffFilterForm
    results_id = "staff-results"
    sorts = {
        "name": ("name", "pk"),
        "staff_no": ("staff_no", "pk"),
        "organ": ("organ__region_code", "organ__name", "name", "pk"),
        "unit": ("unit__name", "name", "pk"),
        "rank": ("rank", "name", "pk"),
    }
    default_sort = "organ"
    export_name = _("工作人员")

    def get_queryset(self):
        user = self.request.user
        qs = Staff.objects.select_related("organ", "unit").prefetch_related(scoped_posts_of_staff(user))
        return access.scoped(qs, user, PERM)

    def get_extra_context(self, page, form):
        user = self.request.user
        # Names link to the personnel appraisal record for those who read it (the appraisal office and leaders).
        records = access.has_perm(user, "appraise") or access.has_perm(user, "appraisal.own")
        return {"selected_organ": form.organ_obj if form.is_valid() else None, "appraisal_records": records}

    columns = [
        Column(_("姓名"), lambda s: s.name),
        Column(_("工号"), lambda s: s.staff_no),
        Column(_("机关"), lambda s: s.organ.name),
        Column(_("内设机构"), lambda s: s.unit.name if s.unit_id else ""),
        Column(_("职务职级"), lambda s: s.rank),
        Column(_("岗位"), lambda s: "、".join(p.title for p in s.posts.all())),
        Column(_("在职"), lambda s: _yes_no(s.is_active)),
    ]


organ_list = OrganList.as_view()
staff_list = StaffList.as_view()


@login_required
def region_detail(request, code):
    user = request.user
    region = access.get_scoped_or_404(Region.objects.all(), user, PERM, code=normalise_region_code(code))
    children = access.scoped(region.children.all(), user, PERM).order_by("code")
    organs = (
        access.scoped(Organ.objects.filter(region=region, is_active=True), user, PERM)
        .select_related("parent")
        .annotate(staff_count=_active_staff_count())
        .order_by("name", "pk")
    )
    page = Paginator(organs, 25).get_page(request.GET.get("page"))
    parents = {o.parent_id for o in page.object_list if o.parent_id}
    context = {
        "region": region,
        "crumbs": region_crumbs(user, region),
        "children": list(children),
        "page": page,
        "visible_parents": visible_organ_ids(user, parents) if parents else set(),
    }
    return render(request, "orgs/region.html", context)


def unit_tree(units: list[Unit]) -> list[tuple[Unit, int]]:
    """Units in tree order with their depth, for an indented list."""
    by_parent: dict[int | None, list[Unit]] = {}
    ids = {u.pk for u in units}
    for unit in units:
        by_parent.setdefault(unit.parent_id if unit.parent_id in ids else None, []).append(unit)
    out: list[tuple[Unit, int]] = []

    def walk(parent_id, depth):
        for unit in by_parent.get(parent_id, []):
            out.append((unit, depth))
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return out


@login_required
def organ_detail(request, pk):
    """One organ with its units, posts (duties, targets, holders) and a first page of staff."""
    user = request.user
    organ = access.get_scoped_or_404(Organ.objects.select_related("region"), user, PERM, pk=pk)
    parent = (
        access.scoped(Organ.objects.filter(pk=organ.parent_id), user, PERM).first() if organ.parent_id else None
    )
    children = access.scoped(organ.children.select_related("region"), user, PERM).order_by("name", "pk")
    units = list(access.scoped(Unit.objects.filter(organ=organ), user, PERM).order_by("name"))
    posts = (
        access.scoped(Post.objects.filter(organ=organ), user, PERM)
        .select_related("unit")
        .prefetch_related(
            "targets",
            Prefetch(
                "holders",
                queryset=access.scoped(Staff.objects.only("id", "name", "is_active", "organ_id"), user, PERM).order_by(
                    "name"
                ),
            ),
        )
        .order_by("unit__name", "title", "pk")
    )
    staff = access.scoped(Staff.objects.filter(organ=organ, is_active=True), user, PERM)
    staff_total = staff.count()
    staff_rows = list(
        staff.select_related("unit")
        .prefetch_related(scoped_posts_of_staff(user))
        .order_by("unit__name", "name", "pk")[:STAFF_PREVIEW]
    )
    context = {
        "organ": organ,
        "parent": parent,
        "children": list(children),
        "units": unit_tree(units),
        "posts": list(posts),
        "staff_rows": staff_rows,
        "staff_total": staff_total,
        "staff_more": staff_total > len(staff_rows),
        "crumbs": region_crumbs(user, organ.region, include_self=True),
    }
    return render(request, "orgs/organ.html", context)
