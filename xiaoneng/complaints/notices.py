"""What the complainant is told, through the channel they chose.

Texts never carry the organ's staff names or the complainant's identity; they carry the
tracking code (and, once, the secret) so the complainant can follow up on the web. An
SMS or e-mail needs the complainant's contact, so the one decryption here is a system
use written to the audit log; phone and letter replies are queued for the office.
"""
from django.utils.translation import gettext as _

from xiaoneng.audit.log import record
from xiaoneng.notify.outbox import queue

from . import identity as ident
from .models import ReplyChannel

TEXTS = {
    "registered": lambda c, d: _("【效能投诉】您的投诉已登记，编号 %(no)s，查询码 %(secret)s，请妥善保存。")
    % {"no": c.number, "secret": d["secret"]},
    "accepted": lambda c, d: _("【效能投诉】投诉 %(no)s 已受理。") % {"no": c.number},
    "not_accepted": lambda c, d: _("【效能投诉】投诉 %(no)s 不予受理，理由：%(reasons)s。") % {"no": c.number, "reasons": d["reasons"]},
    "routed": lambda c, d: _("【效能投诉】投诉 %(no)s 已转 %(organ)s 办理。") % {"no": c.number, "organ": d["organ"]},
    "replied": lambda c, d: _("【效能投诉】投诉 %(no)s 答复：%(reply)s 请凭编号和查询码在网上评价。") % {"no": c.number, "reply": d["reply"]},
    "merged": lambda c, d: _("【效能投诉】投诉 %(no)s 与反映同一问题的投诉合并办理，办理结果将一并答复您。") % {"no": c.number},
    "review_upheld": lambda c, d: _("【效能投诉】投诉 %(no)s 复核维持原答复，理由：%(reasons)s。") % {"no": c.number, "reasons": d["reasons"]},
    "review_reopened": lambda c, d: _("【效能投诉】投诉 %(no)s 经复核重新办理。") % {"no": c.number},
}
ADDRESS_FIELD = {ReplyChannel.SMS: "phone", ReplyChannel.PHONE: "phone", ReplyChannel.EMAIL: "email",
                 ReplyChannel.LETTER: "address"}


def tell(complaint, who: ident.Identity | None, kind: str, **data) -> None:
    """Queue a message for the complainant; `who` is passed when the caller already has it."""
    field = ADDRESS_FIELD.get(complaint.reply_channel)
    if complaint.anonymous or field is None or not complaint.identity_enc:
        return  # web: the complainant reads it on the follow-up page
    if who is None:
        who = ident.decrypt(complaint.identity_enc)
        record("identity.use", complaint, changes={"purpose": f"notify:{kind}", "fields": [field]})
    queue(to=getattr(who, field), text=TEXTS[kind](complaint, data), kind=f"complaint.{kind}", ref=complaint.number,
          channel=complaint.reply_channel)
