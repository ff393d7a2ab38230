"""The accountability clocks by kind, with the words the supervision rule `accountability_overdue`
(xiaoneng/supervision/rules/) uses for them; kept here so their translations live with the app."""
from django.utils.translation import gettext_lazy as _

OVERDUE_WHAT = {
    "accountability.decision": _("问责逾期未作出决定"),
    "accountability.adjustment": _("组织调整逾期未落实"),
    "accountability.filing": _("问责决定逾期未备案"),
    "accountability.review": _("复核逾期未决定"),
    "accountability.appeal": _("申诉逾期未决定"),
}
OVERDUE_MESSAGE = _("%(label)s %(what)s：应于 %(due)s 前完成，现已超期。")
RULE_TITLE = _("问责期限逾期")
RULE_BASIS = "效能问责办理规定"  # stored on each alert as data, like the other rules' bases
