"""The complaint centre's letters to the complainant: acceptance (受理告知书) and reply (答复书).

They are addressed to the complainant by name, so they carry the identity: only readers who may
know who complained (`complaint.identity` in scope) read or issue them, and writing the name into
a letter is an audited use of the identity.
"""
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaoneng.audit.log import record
from xiaoneng.conf import rule
from xiaoneng.orgs import access

from . import SUBJECTS, Content, DocumentKind, Issuer, Subject, register
from .approvals import _day
from .supervision import office_of

IDENTITY_PERM = "complaint.identity"


def _load_complaint(user, pk):
    from xiaoneng.complaints.models import Complaint

    qs = Complaint.objects.select_related("office", "organ", "category", "handling_clock")
    complaint = access.scoped(qs, user, "complaint.view").filter(pk=pk).first()
    if complaint is None:
        raise Http404
    return complaint


def _may_issue(user, complaint) -> bool:
    one = type(complaint).objects.filter(pk=complaint.pk)
    return access.scoped(one, user, "complaint.handle").exists() and access.scoped(one, user, IDENTITY_PERM).exists()


SUBJECTS["complaint"] = Subject(load=_load_complaint, may_issue=_may_issue,
                                url=lambda complaint: reverse("complaints:detail", args=[complaint.pk]))


def _complainant(complaint) -> str:
    """The complainant's name for the letter's salutation; its use is audited."""
    from xiaoneng.complaints.identity import decrypt

    if complaint.anonymous or not complaint.identity_enc:
        return _("投诉人")
    name = decrypt(complaint.identity_enc).name
    record("identity.use", complaint, changes={"purpose": "document", "fields": ["name"]})
    return name or _("投诉人")


class ComplaintKind(DocumentKind):
    subject_type = "complaint"
    perms = (IDENTITY_PERM,)

    def organ(self, complaint):
        return complaint.office or complaint.organ

    def issuer(self, complaint) -> Issuer:
        # The complaint centre is the region's efficiency office: the same issuer, and number series, as its orders.
        return office_of(complaint.office.region_code if complaint.office_id else complaint.region_code)

    def subject_label(self, complaint) -> str:
        return _("投诉 %(no)s") % {"no": complaint.number}

    def _opening(self, complaint) -> str:
        return _("你于%(day)s通过%(channel)s提出的投诉（投诉编号 %(no)s）") % {
            "day": _day(complaint.received_at), "channel": complaint.get_channel_display(), "no": complaint.number}


@register
class ComplaintAcceptance(ComplaintKind):
    code = "complaint.accept"
    title = gettext_lazy("投诉受理告知书")
    word = "投受"
    legal_basis = gettext_lazy("机关效能投诉受理办理有关规定")

    def applies(self, complaint) -> bool:
        return complaint.accepted_at is not None

    def content(self, complaint) -> Content:
        first = _("%(opening)s，本中心已于%(accepted)s受理。") % {
            "opening": self._opening(complaint), "accepted": _day(complaint.accepted_at)}
        second = _("本中心将依照规定期限办理并答复。你可以凭投诉编号和查询码在网上查询办理进度。你的个人信息依法保密。")
        facts = [(_("投诉编号"), complaint.number), (_("投诉事项"), complaint.title)]
        return Content(addressee=_complainant(complaint), paragraphs=[first, second], facts=facts)


@register
class ComplaintReply(ComplaintKind):
    code = "complaint.reply"
    title = gettext_lazy("投诉答复书")
    word = "投复"
    legal_basis = gettext_lazy("机关效能投诉受理办理有关规定")

    def applies(self, complaint) -> bool:
        return complaint.replied_at is not None and bool(complaint.reply.strip())

    def content(self, complaint) -> Content:
        first = _("%(opening)s，经核查，现答复如下：") % {"opening": self._opening(complaint)}
        appeal = _("如对本答复不满意，可以自收到本答复之日起%(days)d日内向本中心申请复核。") % {
            "days": rule("complaint_appeal_days")}
        body = [paragraph.strip() for paragraph in complaint.reply.splitlines() if paragraph.strip()]
        facts = [(_("投诉编号"), complaint.number), (_("答复时间"), _day(complaint.replied_at))]
        return Content(addressee=_complainant(complaint), paragraphs=[first, *body, appeal], facts=facts)
