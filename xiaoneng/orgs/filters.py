"""Filter forms for the organisation browser, and the region tree they offer.

Every choice a form offers, and every value it accepts, comes from the user's scope:
a region or organ outside it is rejected as an invalid choice (the list then shows
nothing), so no filter can be used to probe what exists elsewhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xiaoneng.lib.codes import normalise_region_code
from xiaoneng.orgs import access
from xiaoneng.orgs.models import PREFIX_LENGTH, Organ, OrganKind, Region
from xiaoneng.web.lists import FilterForm, date_input, on_days

PERM = "org.view"
# How many levels below the user's highest scope the tree and the region menu show.
# A province user sees cities and counties (about 150 entries for Guangdong); deeper
# levels are one click away on the region page.
TREE_DEPTH = 2
LEVEL_BY_PREFIX_LENGTH = {length: level for level, length in PREFIX_LENGTH.items()}


def top_level(user) -> int | None:
    """The level of the user's widest region scope (1 = province), or None for no scope."""
    prefixes = access.region_prefixes(user, PERM)
    if prefixes is None:
        return 1
    if not prefixes:
        return None
    return min(LEVEL_BY_PREFIX_LENGTH[len(p)] for p in prefixes)


def tree_regions(user) -> list[Region]:
    """Scoped regions down to TREE_DEPTH levels below the top, in code order (pre-order)."""
    top = top_level(user)
    if top is None:
        return []
    qs = access.scoped(Region.objects.filter(level__lte=top + TREE_DEPTH), user, PERM)
    return list(qs.only("code", "prefix", "name", "level", "parent_id").order_by("code"))


@dataclass
class Node:
    region: Region
    children: list[Node] = field(default_factory=list)
    open: bool = False
    selected: bool = False


def build_tree(regions: list[Region], selected: str = "") -> list[Node]:
    """Nest regions (already in code order) under their parents; orphans become roots.

    The branch holding the selected region is opened, and so are the roots, so the
    first screen shows the user's own regions and their children.
    """
    nodes = {r.pk: Node(r) for r in regions}
    roots = []
    for region in regions:
        node = nodes[region.pk]
        parent = nodes.get(region.parent_id)
        (parent.children if parent else roots).append(node)
    for node in roots:
        node.open = True
    if selected:
        for region in regions:
            if region.code == selected:
                nodes[region.pk].selected = True
                parent_id = region.parent_id
                while parent_id in nodes:
                    nodes[parent_id].open = True
                    parent_id = nodes[parent_id].region.parent_id
    return roots


STATUS_CHOICES = [("", _("有效")), ("inactive", _("已撤销/停用")), ("all", _("全部"))]
STAFF_STATUS_CHOICES = [("", _("在职")), ("inactive", _("不在职")), ("all", _("全部"))]


class ScopedRegionFilterForm(FilterForm):
    """A search box and a region menu limited to the user's scope."""

    region_field = "region_code"  # the prefix field of the listed model
    search_placeholder = ""

    q = forms.CharField(label=_("搜索"), required=False, max_length=100)
    region = forms.ChoiceField(label=_("区划"), required=False)

    def __init__(self, data=None, *, user, regions: list[Region]):
        super().__init__(data)
        self.user = user
        self.regions = {r.code: r for r in regions}
        top = min((r.level for r in regions), default=1)
        choices = [("", _("全部区划"))]
        choices += [(r.code, "\u3000" * (r.level - top) + r.name) for r in regions]
        wanted = normalise_region_code((data or {}).get("region") or "")
        if wanted and wanted not in self.regions:
            # A region deeper than the menu shows (linked from a region page) is fine
            # if it is in scope; anything else stays out of the choices and is invalid.
            extra = access.scoped(Region.objects.filter(code=wanted), user, PERM).first()
            if extra is not None:
                self.regions[extra.code] = extra
                choices.append((extra.code, extra.name))
        self.fields["region"].choices = choices
        self.fields["q"].widget = forms.TextInput(
            attrs={"type": "search", "placeholder": self.search_placeholder, "autocomplete": "off"}
        )

    def clean_region(self):
        return normalise_region_code(self.cleaned_data["region"]) if self.cleaned_data["region"] else ""

    def selected_region(self) -> Region | None:
        code = self.cleaned_data.get("region") if hasattr(self, "cleaned_data") else ""
        return self.regions.get(code) if code else None

    def search_q(self, text: str) -> Q:
        raise NotImplementedError

    def filter(self, queryset):
        data = self.cleaned_data
        if data["q"].strip():
            queryset = queryset.filter(self.search_q(data["q"].strip()))
        region = self.selected_region()
        if region is not None:
            queryset = queryset.filter(**{f"{self.region_field}__under": region.prefix})
        return queryset


class OrganFilterForm(ScopedRegionFilterForm):
    search_placeholder = _("名称或统一社会信用代码")

    kind = forms.ChoiceField(label=_("类别"), required=False, choices=[("", _("全部类别")), *OrganKind.choices])
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STATUS_CHOICES)

    field_order = ["q", "region", "kind", "status"]

    def search_q(self, text):
        return Q(name__icontains=text) | Q(short_name__icontains=text) | Q(credit_code__contains=text.upper())

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data = self.cleaned_data
        if data["kind"]:
            queryset = queryset.filter(kind=data["kind"])
        if data["status"] == "":
            queryset = queryset.filter(is_active=True)
        elif data["status"] == "inactive":
            queryset = queryset.filter(is_active=False)
        return queryset


class StaffFilterForm(ScopedRegionFilterForm):
    region_field = "organ__region_code"
    search_placeholder = _("姓名或工号")

    organ_obj: Organ | None = None  # the organ filtered on, once validated

    organ = forms.IntegerField(label=_("机关"), required=False, widget=forms.HiddenInput)
    status = forms.ChoiceField(label=_("状态"), required=False, choices=STAFF_STATUS_CHOICES)

    field_order = ["q", "region", "status", "organ"]

    def clean_organ(self):
        pk = self.cleaned_data["organ"]
        if pk is None:
            self.organ_obj = None
            return None
        self.organ_obj = access.scoped(Organ.objects.filter(pk=pk), self.user, PERM).first()
        if self.organ_obj is None:
            raise forms.ValidationError(_("所选机关不存在或不在您的权限范围内。"), code="out_of_scope")
        return pk

    def search_q(self, text):
        return Q(name__icontains=text) | Q(staff_no__icontains=text)

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data = self.cleaned_data
        if data["organ"]:
            queryset = queryset.filter(organ_id=data["organ"])
        if data["status"] == "":
            queryset = queryset.filter(is_active=True)
        elif data["status"] == "inactive":
            queryset = queryset.filter(is_active=False)
        return queryset


class DatedFilterForm(ScopedRegionFilterForm):
    """Search, region, organ (and the organs below it) and a date range on `date_field`."""

    date_field = ""
    organ_label = _("机关")
    organ = forms.ModelChoiceField(label=_("机关"), required=False, queryset=Organ.objects.none(),
                                   empty_label=_("全部机关"))
    date_from = forms.DateField(label=_("日期自"), required=False, widget=date_input())
    date_to = forms.DateField(label=_("日期至"), required=False, widget=date_input())

    def __init__(self, data=None, *, user, regions, organs):
        super().__init__(data, user=user, regions=regions)
        self.fields["organ"].queryset = organs
        self.fields["organ"].label = self.organ_label

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            self.add_error("date_to", _("结束日期早于开始日期"))
        return data

    def filter(self, queryset):
        queryset = super().filter(queryset)
        data = self.cleaned_data
        if data["organ"]:
            queryset = queryset.filter(organ__path__under=data["organ"].path)
        return on_days(queryset, self.date_field, data.get("date_from"), data.get("date_to"))
