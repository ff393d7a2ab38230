"""A closed survey's results on the public site (shown on /public/appraisal/, `appraisal.public_site`):
per organ only the weighted satisfaction and the number of respondents — no answers, comments, groups
or intervals. Only when the survey is closed and its office chose to publish it (`Survey.on_public_site`).
"""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record

from .actions import SurveyError, _locked
from .models import Survey, SurveyStatus
from .stats import survey_stats


def public_surveys():
    return Survey.objects.filter(status=SurveyStatus.CLOSED, on_public_site=True)


@transaction.atomic
def do_set_survey_public_site(survey: Survey, *, public: bool) -> Survey:
    survey = _locked(survey)
    public = bool(public)
    if public and survey.status != SurveyStatus.CLOSED:
        raise SurveyError(_("评议尚未结束，不能在公众网站公开结果"), "status")
    if survey.on_public_site == public:
        return survey
    survey.on_public_site = public
    survey.save(update_fields=["on_public_site"])
    record("surveys.public_site", survey, changes={"on_public_site": public})
    return survey


def public_figures(survey: Survey) -> list[dict]:
    """The only fields the public reads: organ, weighted satisfaction, respondents; best first."""
    names = dict(survey.organs.values_list("pk", "name"))
    rows = [{"organ": names[oid], "value": stat.value, "n": stat.n} for oid, stat in survey_stats(survey).items()]
    return sorted(rows, key=lambda r: (r["value"] is None, -(r["value"] or 0), r["organ"]))
