"""Navigation entries of the supervision pages; imported once from SupervisionConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.web.nav import NavItem, register

SUPERVISION_PERMS = ("supervise", "handle", "lead")


def sees_supervision(user) -> bool:
    """Supervisors see their region's alerts; an organ's handlers and leaders see their own."""
    return any(access.has_perm(user, perm) for perm in SUPERVISION_PERMS)


register(NavItem("alerts", _("预警"), "supervision:alerts", section="supervision", check=sees_supervision, order=30))
register(NavItem("orders", _("督办"), "supervision:orders", section="supervision", check=sees_supervision, order=40))
register(NavItem("dashboard", _("监察仪表盘"), "dashboard:index", section="supervision", perm="supervise", order=5))
