"""Navigation entries of the appraisal pages; imported from AppraisalConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.web.nav import NavItem, register

register(NavItem("appraisal-schemes", _("考评方案"), "appraisal:schemes", section="supervision", perm="appraise",
                 order=60))
register(NavItem("appraisal-mine", _("本单位考评"), "appraisal:mine", section="workbench", perm="appraisal.own",
                 order=60))
register(NavItem("appraisal-grades", _("公务员考核"), "appraisal:grade-organs", section="workbench",
                 perm="appraisal.own", order=61))
register(NavItem("appraisal-grades-office", _("公务员考核"), "appraisal:grade-organs", section="supervision",
                 perm="appraise", order=61))
register(NavItem("appraisal-reviews", _("考核结果复核"), "appraisal:reviews", section="supervision", perm="appraise",
                 order=62))
