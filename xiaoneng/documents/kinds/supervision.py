"""The supervision notice (督办通知书) an efficiency office sends the organ it supervises."""
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xiaoneng.clocks.explain import deadline_label
from xiaoneng.conf import rule

from . import SUBJECTS, Content, DocumentKind, Issuer, Subject, register
from .approvals import _day


def _load_order(user, pk):
    from django.http import Http404

    from xiaoneng.supervision.models import SupervisionOrder
    from xiaoneng.supervision.views import in_scope

    order = in_scope(SupervisionOrder.objects.select_related("organ", "clock", "alert"), user).filter(pk=pk).first()
    if order is None:
        raise Http404
    return order


def _may_issue(user, order) -> bool:
    from xiaoneng.supervision.views import SUPERVISOR, covers_issuer, sides

    return SUPERVISOR in sides(user, order) and covers_issuer(user, order)


SUBJECTS["order"] = Subject(load=_load_order, may_issue=_may_issue,
                            url=lambda order: reverse("supervision:order", args=[order.pk]))


def office_of(region_code: str) -> Issuer:
    """The efficiency office of a region: its organ where the region has one (the organ whose short name is
    `complaint_office_short_name`), else named by the province's convention (configuration)."""
    from xiaoneng.orgs.models import Organ, Region

    region = Region.objects.filter(prefix=region_code).first()
    region_name = region.name if region else region_code
    office = Organ.objects.filter(region_code=region_code, short_name=rule("complaint_office_short_name"),
                                  is_active=True).first()
    if office is not None:
        return Issuer(key=f"organ:{office.pk}", name=office.name, short=f"{region_name}{office.short_name}")
    return Issuer(key=f"office:{region_code}", name=rule("efficiency_office_name").format(region=region_name),
                  short=rule("efficiency_office_short_name").format(region=region_name))


@register
class SupervisionNotice(DocumentKind):
    code = "order.notice"
    title = gettext_lazy("督办通知书")
    word = "督"
    subject_type = "order"
    perms = ("supervise", "handle", "lead")  # as the order itself is read
    legal_basis = gettext_lazy("机关效能建设督办有关规定")

    def applies(self, order) -> bool:
        return True  # an order is a notice from the moment it is opened

    def subject_label(self, order) -> str:
        return _("督办 %(no)s（%(title)s）") % {"no": order.number, "title": order.title}

    def issuer(self, order) -> Issuer:
        return office_of(order.issuer_region_code)

    def content(self, order) -> Content:
        first = _("经监察，%(title)s。根据机关效能建设有关规定，现予督办。") % {"title": order.title.rstrip("。.")}
        demand = _("督办要求：%(demand)s") % {"demand": order.demand.strip()}
        due = deadline_label(order.clock.due_at) if order.clock_id else ""
        report = (_("请于%(due)s前办结，并将办理情况书面报送本办。") % {"due": due} if due
                  else _("请按要求办理，并将办理情况书面报送本办。"))
        facts = [(_("督办编号"), order.number), (_("督办时间"), _day(order.opened_at))]
        if due:
            facts.append((_("办理期限"), due))
        if order.alert_id and order.alert.legal_basis:
            facts.append((_("监察依据"), order.alert.legal_basis))
        return Content(addressee=order.organ.name, paragraphs=[first, demand, report], facts=facts)
