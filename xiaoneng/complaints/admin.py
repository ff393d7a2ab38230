"""Complaint categories, Open311 keys, and read-only complaint and rating lists in the admin.

* Categories (Open311 services) and API keys are the province's configuration: system
  administrators ("org.manage") of the province itself edit them
  (`access.may_manage_province_settings`), not those of a city or county. A key is generated when its row is added
  and shown once, in the confirmation message; only its hash is kept. Keys are never
  deleted (complaints filed with them refer to them): they are revoked.
* Complaints and ratings change only through their actions, so here they are
  read-only, scoped like every page ("complaint.view", "rating.view"), and show the
  masked complainant (匿名 or 张**) only: the encrypted identity, the digests, the
  secret and the token are not among the fields.
"""
from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaoneng.orgs import access

from . import masking
from .models import ApiKey, Category, Complaint, Rating
from .open311 import keys
from .open311.services import attribute_errors

MANAGE = "org.manage"


def _staff_with(request, perm: str) -> bool:
    user = request.user
    return user.is_active and user.is_staff and (user.is_superuser or access.has_perm(user, perm))


def _province_staff(request) -> bool:
    user = request.user
    return user.is_active and user.is_staff and access.may_manage_province_settings(user, MANAGE)


class ManagedAdmin(admin.ModelAdmin):
    """Editable by the province's system administrators; nothing is deleted."""

    def has_module_permission(self, request):
        return _province_staff(request)

    def has_view_permission(self, request, obj=None):
        return _province_staff(request)

    has_add_permission = has_change_permission = has_view_permission

    def has_delete_permission(self, request, obj=None):
        return False


class ScopedReadOnlyAdmin(admin.ModelAdmin):
    perm = ""

    def get_queryset(self, request):
        return access.scoped(super().get_queryset(request), request.user, self.perm)

    def has_module_permission(self, request):
        return _staff_with(request, self.perm)

    def has_view_permission(self, request, obj=None):
        return _staff_with(request, self.perm)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = ("code", "name", "name_en", "description", "group", "keywords", "attributes", "order", "is_active")

    def clean_attributes(self):
        value = self.cleaned_data.get("attributes")
        if value in (None, ""):
            return []
        errors = attribute_errors(value)
        if errors:
            raise forms.ValidationError(errors)
        return value


@admin.register(Category)
class CategoryAdmin(ManagedAdmin):
    form = CategoryForm
    list_display = ("code", "name", "name_en", "group", "order", "is_active")
    list_filter = ("is_active", "group")
    search_fields = ("code", "name", "name_en", "keywords")


@admin.register(ApiKey)
class ApiKeyAdmin(ManagedAdmin):
    list_display = ("name", "is_active", "key_prefix", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "key_prefix")
    fields = ("name", "is_active", "key_prefix", "created_at", "last_used_at")
    readonly_fields = ("key_prefix", "created_at", "last_used_at")
    actions = ["revoke"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        key, obj.key_prefix, obj.key_hash = keys.new_key()
        super().save_model(request, obj, form, change)
        messages.warning(request, _("Open311 接口密钥 %(name)s（只显示这一次，请妥善保存）：%(key)s") % {
            "name": obj.name, "key": key})

    @admin.action(description=gettext_lazy("停用所选接口密钥（立即失效）"))
    def revoke(self, request, queryset):
        for api_key in queryset.filter(is_active=True):
            keys.do_revoke_key(api_key)
            messages.info(request, _("已停用 %(name)s") % {"name": api_key.name})


@admin.register(Complaint)
class ComplaintAdmin(ScopedReadOnlyAdmin):
    perm = "complaint.view"
    list_display = ("number", "channel", "category", "masked_title", "status", "complainant", "region", "organ",
                    "received_at")
    list_filter = ("status", "channel", "category")
    search_fields = ("number",)  # not the title: a search for a name would tell which complaints carry it
    list_select_related = ("category", "region", "organ")
    date_hierarchy = "received_at"
    # The free texts only as masked copies (complaints/masking.py), whoever reads: the admin is not where
    # complaints are read, and so it needs no per-reader rule; the complaint page shows them as written.
    fields = ("number", "channel", "source_ref", "category", "masked_title", "masked_content", "region", "office",
              "named_organ", "organ", "masked_address_string", "lat", "long", "complainant", "phone_masked",
              "reply_channel", "status", "received_at", "accepted_at", "routed_at", "handled_at", "replied_at",
              "closed_at", "masked_reasons", "result", "masked_handling_report", "masked_reply", "satisfaction",
              "masked_satisfaction_comment", "extended", "merged_into", "possible_duplicate", "api_key")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("投诉人"))
    def complainant(self, obj):
        return obj.complainant_label

    def _masked(name, label):  # noqa: N805 - builds the display methods below
        @admin.display(description=label)
        def show(self, obj):
            return masking.shown(obj, name, full=False)
        return show

    masked_title = _masked("title", gettext_lazy("标题"))
    masked_content = _masked("content", gettext_lazy("投诉内容"))
    masked_address_string = _masked("address_string", gettext_lazy("事发地点"))
    masked_reasons = _masked("reasons", gettext_lazy("不予受理理由"))
    masked_handling_report = _masked("handling_report", gettext_lazy("办理情况"))
    masked_reply = _masked("reply", gettext_lazy("答复内容"))
    masked_satisfaction_comment = _masked("satisfaction_comment", gettext_lazy("评价意见"))


@admin.register(Rating)
class RatingAdmin(ScopedReadOnlyAdmin):
    perm = "rating.view"
    list_display = ("id", "kind", "organ", "level", "rater", "status", "rated_at")
    list_filter = ("kind", "level", "status")
    list_select_related = ("organ",)
    date_hierarchy = "rated_at"
    fields = ("kind", "channel", "organ", "matter", "case", "window", "level", "scores", "comment", "rated_at", "rater",
              "phone_masked", "status", "callback_at", "callback_note", "rectification_report", "rectified_at",
              "appeal_reasons", "appealed_at", "appeal_decision", "decided_at")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("评价人"))
    def rater(self, obj):
        return obj.name_masked if obj.named else _("匿名")
