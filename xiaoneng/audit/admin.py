from django.contrib import admin

from xiaoneng.orgs import access

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """Read-only: the log is append-only, and nobody edits it through the admin."""

    list_display = ("id", "at", "actor_label", "channel", "action", "object_type", "object_id", "object_repr")
    list_filter = ("channel", "action")
    search_fields = ("object_repr", "actor_label", "object_id")
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

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
