from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.web import names
from xiaoneng.web.admin_names import AuditActionFilter

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, and nobody edits it through the admin."""

    list_display = ("id", "at", "actor_label", "channel", "action_name", "object_type_name", "object_id", "object_repr")
    list_filter = ("channel", AuditActionFilter)
    search_fields = ("object_repr", "actor_label", "object_id")
    # The codes as words (the register's words, xiaoneng.web.names); the stored codes stay in the database.
    readonly_fields = [{"action": "action_name", "object_type": "object_type_name"}.get(f.name, f.name)
                       for f in AuditEntry._meta.fields]
    fields = readonly_fields

    @admin.display(description=_("操作"), ordering="action")
    def action_name(self, entry):
        return names.action_name(entry.action)

    @admin.display(description=_("对象类型"), ordering="object_type")
    def object_type_name(self, entry):
        return names.object_type_name(entry.object_type)

    def get_queryset(self, request):
        from .views import visible_entries

        return visible_entries(request.user)

    def has_module_permission(self, request):
        return access.has_perm(request.user, "audit.view")

    def has_view_permission(self, request, obj=None):
        return access.has_perm(request.user, "audit.view")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
