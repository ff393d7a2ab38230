from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    name = "xiaoneng.appraisal"
    label = "appraisal"
    verbose_name = _("绩效考评")

    def ready(self):
        from xiaoneng.audit.log import track
        from xiaoneng.clocks import monitor
        from xiaoneng.orgs.access import register_scope

        from . import (
            home,  # noqa: F401  (adds the appraisal panel to the home page)
            nav,  # noqa: F401  (adds the appraisal pages to the navigation)
        )
        from .models import (
            Adjustment,
            Indicator,
            InterimResult,
            LeadingCadre,
            ManualValue,
            Objection,
            OrganClass,
            Period,
            Result,
            ResultLine,
            Scheme,
            StaffGrade,
            StaffReview,
        )
        from .reviews import close_lapsed_windows

        # The appraisal is itself supervised: every change of a weight, a value, an objection or a grade
        # is audited with who made it.
        for model in (OrganClass, Scheme, Indicator, Period, ManualValue, Objection, StaffGrade, StaffReview):
            track(model)
        # Schemes and periods belong to the region of their class; results, lines and objections to the
        # organ appraised (an organ's grant reaches its own result, never another organ's).
        register_scope(OrganClass, region="region_code")
        register_scope(Scheme, region="organ_class__region_code")
        register_scope(Indicator, region="scheme__organ_class__region_code")
        register_scope(Period, region="scheme__organ_class__region_code")
        register_scope(Result, region="organ__region_code", organ_path="organ__path")
        register_scope(ResultLine, region="result__organ__region_code", organ_path="result__organ__path")
        register_scope(Objection, region="result__organ__region_code", organ_path="result__organ__path")
        register_scope(ManualValue, region="organ__region_code", organ_path="organ__path")
        register_scope(StaffGrade, region="organ__region_code", organ_path="organ__path")
        # A 复核 belongs where the grade does; a leading cadre's row where the team's organ is.
        register_scope(StaffReview, region="grade__organ__region_code", organ_path="grade__organ__path")
        register_scope(LeadingCadre, region="result__organ__region_code", organ_path="result__organ__path")
        monitor.on_events(close_lapsed_windows)
        # 加减分 and interim results belong to the organ appraised, like its result; only the office reads them.
        track(Adjustment)
        register_scope(Adjustment, region="organ__region_code", organ_path="organ__path")
        register_scope(InterimResult, region="organ__region_code", organ_path="organ__path")
