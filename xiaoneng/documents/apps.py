from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DocumentsConfig(AppConfig):
    name = "xiaoneng.documents"
    label = "documents"
    verbose_name = _("公文")

    def ready(self):
        from xiaoneng.orgs.access import register_scope

        from .kinds import (  # noqa: F401  (register their documents)
            accountability,
            appraisal,
            appraisal_staff,
            approvals,
            complaints,
            supervision,
        )
        from .models import Document

        register_scope(Document, region="region_code", organ_path="organ__path")
