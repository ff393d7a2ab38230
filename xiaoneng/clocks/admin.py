from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.web import names
from xiaoneng.web.admin_names import ClockKindFilter

from .models import Clock, ClockEvent, ClockExtension, ClockPause


class PauseInline(admin.TabularInline):
    model = ClockPause
    extra = 0
    can_delete = False


class ExtensionInline(admin.TabularInline):
    model = ClockExtension
    extra = 0
    can_delete = False


class EventInline(admin.TabularInline):
    model = ClockEvent
    extra = 0
    can_delete = False


@admin.register(Clock)
class ClockAdmin(admin.ModelAdmin):
    """Read-only: clocks change only through their actions (start, pause, resume, extend, stop)."""

    list_display = ("id", "label", "kind_name", "organ", "start_at", "limit", "unit", "due_at", "state", "provisional")
    list_filter = ("state", "unit", "provisional", ClockKindFilter)
    search_fields = ("label", "kind")
    exclude = ("kind",)
    readonly_fields = ("kind_name",)

    @admin.display(description=_("类型"), ordering="kind")
    def kind_name(self, clock):
        return names.clock_kind(clock.kind)
    inlines = [PauseInline, ExtensionInline, EventInline]
    list_select_related = ("organ",)

    def get_queryset(self, request):
        return access.scoped(super().get_queryset(request), request.user, "clock.view")

    def has_module_permission(self, request):
        return access.has_perm(request.user, "clock.view") and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
