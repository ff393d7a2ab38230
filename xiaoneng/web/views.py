"""Login, logout and the home page of the shell."""
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Count
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from xiaoneng.inbox import badge, todo
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Grant, OrganKind, Post, Region, Role, Staff
from xiaoneng.web import home as home_panels


class LoginForm(AuthenticationForm):
    """Django's form with our own wording; it never says which of the two was wrong."""

    error_messages = {
        "invalid_login": _("用户名或密码不正确。请注意区分大小写。"),
        "inactive": _("该账号已停用，请联系系统管理员。"),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autocapitalize": "none"})


class LoginView(auth_views.LoginView):
    template_name = "web/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's own rule since 5.0): a link or an image cannot sign anyone out."""


WELCOME = {
    Role.ADMIN: _("您可以维护组织机构、用户授权和工作日历，并查看审计日志。"),
    Role.SUPERVISOR: _("您可以对辖区内机关的办件时限进行电子监察，跟踪预警和红黄牌。"),
    Role.LEADER: _("您可以查看本机关及下属单位的办件时限和效能情况。"),
    Role.HANDLER: _("您可以办理本机关的事项，并随时掌握每件事项的办理时限。"),
    Role.COMPLAINT_OFFICER: _("您可以受理、转办和答复辖区内的效能投诉。"),
    Role.APPRAISAL_OFFICER: _("您可以组织辖区内机关和工作人员的绩效考评。"),
    Role.AUDITOR: _("您可以只读查看辖区内的数据和审计日志。"),
    Role.DEPUTY: _("您可以查看本区划已公布的绩效考评结果。"),
}


def _scope_label(grant) -> str:
    return str(grant.region or grant.organ)


@login_required
def home(request):
    """A per-role welcome and what the user's scope holds, counted through the scoping module."""
    user = request.user
    grants = sorted(
        Grant.objects.filter(user=user).select_related("region", "organ"),
        key=lambda g: (Role.values.index(g.role), g.pk),
    )
    held = {g.role for g in grants}
    welcome = [{"role": Role(r).label, "text": WELCOME[r]} for r in Role.values if r in held]
    context = {"grants": [(g.get_role_display(), _scope_label(g)) for g in grants], "welcome": welcome}
    # What waits for the user (待办), from xiaoneng.inbox; the header badge reuses the total.
    sections = todo.sections(user)
    total = sum(s.count for s in sections)
    badge.remember(user, total)
    context.update(todo=sections, todo_total=total, now=timezone.now())
    context["panels"] = home_panels.panels(user)  # what each capability shows the user (web/home.py)
    if access.has_perm(user, "org.view"):
        organs = access.visible_organs(user)
        by_kind = dict(organs.values_list("kind").annotate(n=Count("pk")).order_by())
        kinds = [{"kind": k, "label": label, "count": by_kind.get(k, 0)} for k, label in OrganKind.choices]
        context.update(
            can_view_orgs=True,
            organ_count=sum(by_kind.values()),
            region_count=access.scoped(Region.objects.all(), user, "org.view").count(),
            staff_count=access.scoped(Staff.objects.filter(is_active=True), user, "org.view").count(),
            post_count=access.scoped(Post.objects.all(), user, "org.view").count(),
            kinds=[k for k in kinds if k["count"]],
            chart={
                "title": str(_("机关类别分布")),
                "labels": [str(k["label"]) for k in kinds if k["count"]],
                "values": [k["count"] for k in kinds if k["count"]],
            },
        )
    if access.has_perm(user, "appraisal.published"):
        # People's congress deputies and CPPCC members: the published appraisal results of their region.
        from xiaoneng.appraisal.views_reports import published_periods

        context["published_appraisals"] = list(published_periods(user)[:20])
    return render(request, "web/home.html", context)
