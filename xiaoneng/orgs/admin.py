"""Django admin for administrators, scoped like every other page.

A staff user who is not a superuser sees and edits only rows inside the scopes of
his "org.manage" grants (the system administrator role); saves go through the ORM, so
the audit log records them with channel "admin".
"""
from functools import reduce
from operator import or_

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.db.models import Q

from . import access, actions
from .models import Grant, Organ, Post, PostTarget, Region, Staff, Unit, User

admin.site.site_header = "效能监察平台 · 后台管理"
admin.site.site_title = "效能监察平台"


class ScopedAdmin(admin.ModelAdmin):
    perm = "org.manage"

    def get_queryset(self, request):
        return access.scoped(super().get_queryset(request), request.user, self.perm)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A related region or organ must be inside the administrator's scope too.
        if db_field.related_model in (Region, Organ):
            kwargs["queryset"] = access.scoped(db_field.related_model.objects.all(), request.user, self.perm)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return access.has_perm(request.user, self.perm)

    def has_view_permission(self, request, obj=None):
        return access.has_perm(request.user, self.perm)

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission
    has_delete_permission = has_view_permission


@admin.register(Region)
class RegionAdmin(ScopedAdmin):
    """The official division codes are the province's reference data (and every scope hangs on
    their prefixes): administrators read their subtree; only the province's change it."""

    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)

    def has_change_permission(self, request, obj=None):
        return access.may_manage_province_settings(request.user, self.perm)

    def has_add_permission(self, request):
        return access.may_manage_province_settings(request.user, self.perm)

    has_delete_permission = has_change_permission


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    raw_id_fields = ("parent",)


@admin.register(Organ)
class OrganAdmin(ScopedAdmin):
    list_display = ("name", "credit_code", "kind", "region", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "credit_code")
    raw_id_fields = ("region", "parent")
    inlines = [UnitInline]
    list_select_related = ("region",)

    def save_model(self, request, obj, form, change):
        """Changes go through do_update_organ, which moves the paths of the whole subtree."""
        if not change:
            return super().save_model(request, obj, form, change)
        fields = [f for f in form.changed_data if f in {"credit_code", "name", "short_name", "kind", "region", "parent", "is_active"}]
        actions.do_update_organ(Organ.objects.get(pk=obj.pk), **{f: form.cleaned_data[f] for f in fields})


class TargetInline(admin.TabularInline):
    model = PostTarget
    extra = 0


@admin.register(Post)
class PostAdmin(ScopedAdmin):
    list_display = ("title", "organ", "unit", "is_leading")
    list_filter = ("is_leading",)
    search_fields = ("title", "organ__name")
    raw_id_fields = ("organ", "unit")
    filter_horizontal = ("holders",)
    inlines = [TargetInline]
    list_select_related = ("organ", "unit")


@admin.register(Staff)
class StaffAdmin(ScopedAdmin):
    list_display = ("name", "staff_no", "organ", "unit", "rank", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "staff_no")
    raw_id_fields = ("organ", "unit", "user")
    list_select_related = ("organ", "unit")


class GrantInline(admin.TabularInline):
    model = Grant
    extra = 0
    raw_id_fields = ("region", "organ")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A grant may only be given inside the administrator's own scope: an id typed into the raw-id
        # box outside it is "not a valid choice".
        if db_field.name in ("region", "organ"):
            kwargs["queryset"] = grantable(request.user, db_field.related_model)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def grantable(admin_user, model):
    """Regions or organs an administrator may give grants on: his "user.manage" scope. Regions come
    from region grants only: an organ-scoped administrator may not hand out a region-wide role."""
    if model is Organ or admin_user.is_superuser:
        return access.scoped(model.objects.all(), admin_user, "user.manage")
    prefixes = [g.region.prefix for g in access.grants(admin_user)
                if g.region_id and "user.manage" in access.PERMISSIONS.get(g.role, ())]
    return Region.objects.filter(reduce(or_, [Q(prefix__under=p) for p in prefixes])) if prefixes else Region.objects.none()


def manageable_users(admin_user):
    """Users an administrator may see and edit: none of their grants lies outside what he may grant,
    so a 深圳 administrator neither reads nor changes 天河's staff. Users with no grant yet (new
    accounts) are everybody's to set up."""
    users = User.objects.all()
    if admin_user.is_superuser:
        return users
    outside = Grant.objects.exclude(region__in=grantable(admin_user, Region)).exclude(
        organ__in=grantable(admin_user, Organ))
    return users.exclude(pk__in=outside.values("user_id")).exclude(is_superuser=True)


@admin.register(User)
class XiaonengUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("效能", {"fields": ("display_name",)}))
    list_display = ("username", "display_name", "is_staff", "is_active", "last_login")
    inlines = [GrantInline]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=manageable_users(request.user).values("pk"))

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser makes superusers or hands out Django's own permissions and groups;
        # roles are given through grants, inside the administrator's scope.
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        return (*super().get_readonly_fields(request, obj), "is_superuser", "groups", "user_permissions")

    def has_module_permission(self, request):
        return access.has_perm(request.user, "user.manage")

    def has_view_permission(self, request, obj=None):
        return access.has_perm(request.user, "user.manage") and (
            obj is None or manageable_users(request.user).filter(pk=obj.pk).exists())

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission
    has_delete_permission = has_view_permission
