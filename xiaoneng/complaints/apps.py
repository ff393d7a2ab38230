from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ComplaintsConfig(AppConfig):
    name = "xiaoneng.complaints"
    label = "complaints"
    verbose_name = _("效能投诉")

    def ready(self):
        from xiaoneng.orgs.access import register_scope

        from . import nav  # noqa: F401  (adds the complaint and rating pages to the navigation)
        from .models import Complaint, ExtensionRequest, Rating

        register_scope(Complaint, region="region_code", organ_path="organ__path")
        register_scope(ExtensionRequest, region="complaint__region_code", organ_path="complaint__organ__path")
        register_scope(Rating, region="region_code", organ_path="organ__path")
