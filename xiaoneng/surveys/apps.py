from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SurveysConfig(AppConfig):
    name = "xiaoneng.surveys"
    label = "surveys"
    verbose_name = _("群众评议")

    def ready(self):
        from xiaoneng.orgs.access import register_scope

        from . import nav  # noqa: F401  (adds the survey pages to the navigation)
        from .models import Answer, Ballot, Invitation, Question, RaterGroup, Response, Survey

        # A survey belongs to the region of the appraisal office that runs it; an answer to the organ
        # it rates (an organ's grant reaches its own answers, never another organ's).
        register_scope(Survey, region="region_code")
        register_scope(Question, region="survey__region_code")
        register_scope(RaterGroup, region="survey__region_code")
        register_scope(Invitation, region="survey__region_code")
        register_scope(Response, region="survey__region_code")
        register_scope(Ballot, region="survey__region_code")
        register_scope(Answer, region="organ__region_code", organ_path="organ__path")
