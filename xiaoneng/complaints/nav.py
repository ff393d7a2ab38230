"""Navigation entries of the complaint and rating pages; imported from ComplaintsConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.web.nav import NavItem, register

register(NavItem("complaints", _("效能投诉"), "complaints:list", section="supervision", perm="complaint.view", order=30))
register(NavItem("complaint-intake", _("投诉登记"), "complaints:intake", section="workbench", perm="complaint.handle",
                 order=30))
register(NavItem("complaint-stats", _("投诉统计"), "complaints:stats", section="supervision", perm="complaint.view",
                 order=31))
register(NavItem("ratings", _("好差评"), "ratings:list", section="supervision", perm="rating.view", order=32))
register(NavItem("rating-stats", _("好差评统计"), "ratings:stats", section="supervision", perm="rating.view", order=33))
