"""Navigation entries of the accountability pages; imported from AccountabilityConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.web.nav import NavItem, register

register(NavItem("accountability", _("问责案件"), "accountability:cases", section="supervision",
                 perm="accountability.view", order=50))
register(NavItem("accountability-proposals", _("问责线索"), "accountability:proposals", section="supervision",
                 perm="accountability.view", order=51))
register(NavItem("accountability-stats", _("问责统计"), "accountability:stats", section="supervision",
                 perm="accountability.view", order=52))
register(NavItem("accountability-report", _("问责工作报告"), "accountability:report", section="supervision",
                 perm="accountability.view", order=53))
