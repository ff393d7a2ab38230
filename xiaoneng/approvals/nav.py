"""Navigation entries of the handling pages; imported once from ApprovalsConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.orgs import access
from xiaoneng.web.nav import NavItem, register

CASE_ROLES = ("handle", "supervise", "lead")


def handles_cases(user) -> bool:
    return any(access.has_perm(user, perm) for perm in CASE_ROLES)


register(NavItem("cases", _("办件"), "approvals:cases", section="workbench", check=handles_cases, order=10))
register(NavItem("matters", _("事项目录"), "approvals:matters", section="workbench", check=handles_cases, order=20))
register(NavItem("register", _("登记办件"), "approvals:register", section="workbench", perm="handle", order=15))
