"""Django admin for administrators, scoped like every other page.

A staff user who is not a superuser sees and edits only rows inside the scopes of
his "org.manage" grants (the system administrator role); saves go through the ORM, so
the audit log records them with channel "admin".
"""
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

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
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    raw_id_fields = ("parent",)


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
    list_display = ("title", "organ", "unit")
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


@admin.register(User)
class XiaonengUserAdmin(UserAdmin):
    fieldsets = (*UserAdmin.fieldsets, ("效能", {"fields": ("display_name",)}))
    list_display = ("username", "display_name", "is_staff", "is_active", "last_login")
    inlines = [GrantInline]

    def has_module_permission(self, request):
        return access.has_perm(request.user, "user.manage")

    def has_view_permission(self, request, obj=None):
        return access.has_perm(request.user, "user.manage")

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission
    has_delete_permission = has_view_permission
