from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "xiaoneng.audit"
    label = "audit"
    verbose_name = _("审计日志")

    def ready(self):
        from xiaoneng.orgs.access import register_scope

        from .models import AuditEntry

        register_scope(AuditEntry, region="region_code")
