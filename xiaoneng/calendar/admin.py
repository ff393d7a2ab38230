from django.contrib import admin

from xiaoneng.orgs import access

from . import actions
from .models import CalendarDay, CalendarYear


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Edits go through `do_set_day`, so they are audited and recompute the clocks. Province
    administrators only (`access.may_manage_province_settings`)."""

    list_display = ("date", "is_working", "kind", "name", "source")
    list_filter = ("kind", "is_working")
    search_fields = ("name",)
    date_hierarchy = "date"
    fields = ("date", "is_working", "name")

    def get_readonly_fields(self, request, obj=None):
        return ("date",) if obj else ()

    def save_model(self, request, obj, form, change):
        actions.do_set_day(obj.date, is_working=obj.is_working, name=obj.name, reason=f"后台修改（{request.user}）")

    def has_module_permission(self, request):
        return access.may_manage_province_settings(request.user, "calendar.manage")

    def has_view_permission(self, request, obj=None):
        return access.may_manage_province_settings(request.user, "calendar.manage")

    has_change_permission = has_view_permission
    has_add_permission = has_module_permission

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    list_display = ("year", "source", "loaded_at")

    def has_module_permission(self, request):
        return access.may_manage_province_settings(request.user, "calendar.manage")

    def has_view_permission(self, request, obj=None):
        return access.may_manage_province_settings(request.user, "calendar.manage")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
