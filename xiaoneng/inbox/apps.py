from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "xiaoneng.inbox"
    label = "inbox"
    verbose_name = _("待办与通知")

    def ready(self):
        from xiaoneng.orgs.access import register_scope

        from . import nav, receivers  # noqa: F401  (navigation entries; listeners of supervision and complaints)
        from .models import ExtensionRequest

        register_scope(ExtensionRequest, region="case__region_code", organ_path="case__organ__path")
