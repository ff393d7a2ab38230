"""Exchange sources, batches and events in the admin.

Sources are created and their keys rotated here or with `xiaoneng exchange-source`; a new
key is shown once, in the confirmation message, and only its hash is kept. Batches and
events are read-only (they are evidence); a stranded batch can be processed again.

Registered by `register(site)`, which `xiaoneng/approvals/admin.py` calls for the default site.
"""
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ

from ..models import ExchangeBatch, ExchangeEvent, ExchangeSource
from . import keys, pipeline

PERM = "org.manage"  # managing who may report for which organ is organisation management


def _allowed(request) -> bool:
    return request.user.is_active and request.user.is_staff and (
        request.user.is_superuser or access.has_perm(request.user, PERM))


def sources_of(user):
    """The sources an administrator may see: every organ they report for is inside his scope
    (a source reporting for 天河 and 深圳 is for an administrator over both). Their batches
    and events follow them: a raw batch holds applicants' names and phones."""
    sources = ExchangeSource.objects.all()
    if user.is_superuser:
        return sources
    mine = access.visible_organs(user, PERM)
    return sources.filter(organs__in=mine).exclude(organs__in=Organ.objects.exclude(pk__in=mine)).distinct()


class ExchangeSourceAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "is_active", "key_prefix", "created_at")
    list_filter = ("is_active",)
    search_fields = ("code", "name")
    filter_horizontal = ("organs",)
    fields = ("code", "name", "organs", "is_active", "key_prefix")
    readonly_fields = ("key_prefix",)
    actions = ["rotate_keys", "deactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pk__in=sources_of(request.user).values("pk"))

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "organs":  # a source may only be bound to organs inside the administrator's scope
            kwargs["queryset"] = access.visible_organs(request.user, PERM)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_module_permission(self, request):
        return _allowed(request)

    def has_view_permission(self, request, obj=None):
        return _allowed(request)

    has_add_permission = has_change_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return False  # a source's batches and events refer to it; deactivate it instead

    def save_model(self, request, obj, form, change):
        if not change:
            key, obj.key_prefix, obj.key_hash = keys.new_key()
            super().save_model(request, obj, form, change)
            messages.warning(request, _("来源 %(code)s 的 API 密钥（只显示这一次，请妥善保存）：%(key)s") % {
                "code": obj.code, "key": key})
            return
        super().save_model(request, obj, form, change)

    @admin.action(description=gettext_lazy("更换所选来源的 API 密钥"))
    def rotate_keys(self, request, queryset):
        for source in queryset:
            key = keys.do_rotate_key(source)
            messages.warning(request, _("来源 %(code)s 的新 API 密钥（只显示这一次）：%(key)s") % {
                "code": source.code, "key": key})

    @admin.action(description=gettext_lazy("停用所选来源"))
    def deactivate(self, request, queryset):
        for source in queryset:
            keys.do_set_source_active(source, False)


class ReadOnly(admin.ModelAdmin):
    """Batches and events, of the sources the administrator may see."""

    list_filter = ("channel", ("source", admin.RelatedOnlyFieldListFilter))

    def get_queryset(self, request):
        return super().get_queryset(request).filter(source__in=sources_of(request.user).values("pk"))

    def has_module_permission(self, request):
        return _allowed(request)

    def has_view_permission(self, request, obj=None):
        return _allowed(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ExchangeBatchAdmin(ReadOnly):
    list_display = ("id", "source", "channel", "received_at", "size", "processed_at", "error")
    list_select_related = ("source",)
    date_hierarchy = "received_at"
    actions = ["reprocess"]

    @admin.action(description=gettext_lazy("重新处理所选批次（重复的事件不会重复应用）"))
    def reprocess(self, request, queryset):
        for batch in queryset.order_by("id"):
            receipt = pipeline.reprocess(batch)
            messages.info(request, _("批次 %(id)d：%(status)d %(detail)s") % {
                "id": batch.pk, "status": receipt.status, "detail": receipt.body.get("detail", "")})

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not (request.user.is_superuser or access.has_perm(request.user, PERM)):
            actions.pop("reprocess", None)
        return actions


class ExchangeEventAdmin(ReadOnly):
    list_display = ("event_id", "source", "type", "case_no", "state", "occurred_at", "lag_seconds", "error_field",
                    "error_reason")
    list_filter = ("state", "type", ("source", admin.RelatedOnlyFieldListFilter))
    search_fields = ("event_id", "case_no")
    list_select_related = ("source",)


def register(site: admin.AdminSite) -> None:
    site.register(ExchangeSource, ExchangeSourceAdmin)
    site.register(ExchangeBatch, ExchangeBatchAdmin)
    site.register(ExchangeEvent, ExchangeEventAdmin)
