from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClocksConfig(AppConfig):
    name = "xiaoneng.clocks"
    label = "clocks"
    verbose_name = _("时限")

    def ready(self):
        from xiaoneng.orgs.access import register_scope

        from .models import Clock

        # A clock is seen by whoever sees its organ, or its region when it has no organ.
        register_scope(Clock, region="region_code", organ_path="organ__path")
