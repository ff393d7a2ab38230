"""Navigation entries of the appraisal pages; imported from AppraisalConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.web.nav import NavItem, register

register(NavItem("appraisal-schemes", _("考评方案"), "appraisal:schemes", section="supervision", perm="appraise",
                 order=60))
register(NavItem("appraisal-mine", _("本单位考评"), "appraisal:mine", section="workbench", perm="appraisal.own",
                 order=60))
register(NavItem("appraisal-classes", _("考评类别"), "appraisal:classes", section="supervision", perm="appraise",
                 order=61))
register(NavItem("appraisal-changes", _("考评变更记录"), "appraisal:changes", section="supervision", order=61,
                 check=lambda user: access.has_perm(user, "appraise") or access.has_perm(user, "supervise")))
register(NavItem("appraisal-published", _("考评结果公开"), "appraisal:published", section="workbench",
                 perm="appraisal.published", order=61))
register(NavItem("appraisal-grades", _("公务员考核"), "appraisal:grade-organs", section="workbench",
                 perm="appraisal.own", order=61))
register(NavItem("appraisal-grades-office", _("公务员考核"), "appraisal:grade-organs", section="supervision",
                 perm="appraise", order=61))
register(NavItem("appraisal-reviews", _("考核结果复核"), "appraisal:reviews", section="supervision", perm="appraise",
                 order=62))
