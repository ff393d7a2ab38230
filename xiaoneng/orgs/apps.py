from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "xiaoneng.orgs"
    label = "orgs"
    verbose_name = _("组织机构")

    def ready(self):
        from . import audit_hooks  # noqa: F401  (registers audited models)
