from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApprovalsConfig(AppConfig):
    name = "xiaoneng.approvals"
    label = "approvals"
    verbose_name = _("审批办件")

    def ready(self):
        from xiaoneng.audit.log import track
        from xiaoneng.orgs.access import register_scope

        from . import nav  # noqa: F401  (adds 办件 and 事项目录 to the navigation)
        from .models import Case, ExchangeSource, Matter, MatterStep, MatterVersion

        # A case is seen by whoever sees its organ; the lead organ of a parallel
        # application also sees every sub-case (through the parent's organ).
        register_scope(Case, region="region_code", organ_path=("organ__path", "parent__organ__path"))
        register_scope(Matter, region="organ__region_code", organ_path="organ__path")
        for model in (Matter, MatterVersion, MatterStep):
            track(model)
        track(ExchangeSource, exclude=("key_hash",))  # key hashes stay out of the audit log
