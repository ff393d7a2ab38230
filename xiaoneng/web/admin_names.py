"""Admin pieces that show a coded column by its names (xiaoneng.web.names) instead of its codes."""
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from . import names


def coded_filter(field: str, title, words, choices):
    """A list filter over `field` whose options are the codes' names (`words(code)`), `choices()` the codes."""

    class CodedFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return [(code, words(code)) for code in choices()]

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    CodedFilter.title = title
    return CodedFilter


ClockKindFilter = coded_filter("kind", _("类型"), names.clock_kind, lambda: list(names.CLOCK_KINDS))
AuditActionFilter = coded_filter("action", _("操作"), names.action_name, lambda: list(names.AUDIT_ACTIONS))
