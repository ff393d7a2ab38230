"""Navigation entries of the appraisal pages; imported from AppraisalConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.web.nav import NavItem, register

register(NavItem("appraisal-schemes", _("考评方案"), "appraisal:schemes", section="supervision", perm="appraise",
                 order=60))
register(NavItem("appraisal-mine", _("本单位考评"), "appraisal:mine", section="workbench", perm="appraisal.own",
                 order=60))
register(NavItem("appraisal-classes", _("考评类别"), "appraisal:classes", section="supervision", perm="appraise",
                 order=61))
