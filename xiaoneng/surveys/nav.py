"""Navigation entry of the survey pages; imported from SurveysConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.web.nav import NavItem, register

register(NavItem("surveys", _("群众评议"), "surveys:list", section="supervision", perm="appraise", order=61))
register(NavItem("surveys-mine", _("本单位群众评议"), "surveys:mine", section="workbench", perm="appraisal.own",
                 order=61))
