from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountabilityConfig(AppConfig):
    name = "xiaoneng.accountability"
    label = "accountability"
    verbose_name = _("效能问责")

    def ready(self):
        from xiaoneng.audit.log import track
        from xiaoneng.orgs.access import register_scope

        from . import nav  # noqa: F401  (adds the accountability pages to the navigation)
        from .models import Appeal, Case, Party, Proposal

        # Personnel data: every change audited, whichever channel made it.
        for model in (Proposal, Case, Party, Appeal):
            track(model)
        register_scope(Proposal, region="region_code", organ_path="organ__path")
        register_scope(Case, region="region_code", organ_path="organ__path")
        register_scope(Party, region="case__region_code", organ_path="case__organ__path")
        register_scope(Appeal, region="party__case__region_code", organ_path="party__case__organ__path")
