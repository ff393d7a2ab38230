"""Navigation entries of the inbox; imported once from InboxConfig.ready()."""
from django.utils.translation import gettext_lazy as _

from xiaoneng.web.nav import NavItem, register

register(NavItem("notifications", _("我的通知"), "inbox:notifications", section="workbench", order=5))
register(NavItem("leader", _("本机关仪表盘"), "inbox:leader", section="workbench", perm="lead", order=6))
