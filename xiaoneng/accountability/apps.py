from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountabilityConfig(AppConfig):
    name = "xiaoneng.accountability"
    label = "accountability"
    verbose_name = _("效能问责")

    def ready(self):
        from django.db.models.signals import post_save

        from xiaoneng.audit.log import track
        from xiaoneng.orgs.access import register_scope
        from xiaoneng.supervision.models import AccountabilityProposal

        from . import actions, nav  # noqa: F401  (adds the accountability pages to the navigation)
        from .models import Appeal, Case, Filing, Party, PeriodicReport, Proposal

        # Personnel data: every change audited, whichever channel made it.
        for model in (Proposal, Case, Party, Appeal, Filing):
            track(model)
        post_save.connect(actions.on_proposal_saved, sender=AccountabilityProposal,
                          dispatch_uid="accountability-take-up")
        register_scope(Proposal, region="region_code", organ_path="organ__path")
        register_scope(Case, region="region_code", organ_path="organ__path")
        register_scope(Party, region="case__region_code", organ_path="case__organ__path")
        register_scope(Appeal, region="party__case__region_code", organ_path="party__case__organ__path")
        register_scope(Filing, region="case__region_code", organ_path="case__organ__path")
        register_scope(PeriodicReport, region="region_code")
