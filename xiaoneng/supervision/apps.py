from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    name = "xiaoneng.supervision"
    label = "supervision"
    verbose_name = _("电子监察")

    def ready(self):
        from xiaoneng.approvals.signals import case_event, case_events, exchange_processed
        from xiaoneng.clocks import monitor
        from xiaoneng.clocks.signals import clock_stopped, clocks_stopped
        from xiaoneng.orgs.access import register_scope

        from . import engine, nav  # noqa: F401  (nav adds 预警 and 督办 to the navigation)
        from .models import AccountabilityProposal, Alert, EarlyCompletion, SupervisionOrder

        monitor.on_events(engine.on_clock_events)
        case_event.connect(engine.on_case_event, dispatch_uid="supervision-case-event")
        case_events.connect(engine.on_case_events, dispatch_uid="supervision-case-events")
        clock_stopped.connect(engine.on_clock_stopped, dispatch_uid="supervision-early-completion")
        clocks_stopped.connect(engine.on_clocks_stopped, dispatch_uid="supervision-early-completions")
        exchange_processed.connect(engine.on_exchange_events, dispatch_uid="supervision-exchange")
        for model in (Alert, SupervisionOrder, AccountabilityProposal, EarlyCompletion):
            register_scope(model, region="region_code", organ_path="organ__path")
