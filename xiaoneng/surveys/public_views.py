"""The respondent's side (no login), at /public/surveys/<slug>/ (namespace "surveys-public").

1. Entry: an invitation code (typed, or carried by the QR code of the invitation: `?code=`), or a
   mobile number proven by a one-time SMS code. Which one passed is kept in the session, for this
   survey only.
2. The form: each organ with the five-level questions (or "不了解") and the open questions.
   Honeypot, minimum fill time, per-address limit, CSRF; one response per code or phone, held by
   the database.
3. Thanks. Nothing on any page tells anything about other respondents: no counts, no results, and
   a used code, an unknown code and a code of another survey read the same.

A survey still in draft does not exist for the public (404); an open one takes answers; a closed one
says so.
"""
from __future__ import annotations

from django import forms
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from xiaoneng.approvals.public import client_address, count_failure, is_throttled
from xiaoneng.complaints.identity import digest
from xiaoneng.complaints.validation import MOBILE_RE, normalise_phone
from xiaoneng.conf import rule

from . import actions, guard
from .models import Ballot, Invitation, QuestionKind, Survey, SurveyStatus

LEVEL_CHOICES = [(5, _("非常满意")), (4, _("满意")), (3, _("基本满意")), (2, _("不满意")), (1, _("非常不满意"))]


class CodeForm(forms.Form):
    code = forms.CharField(label=_("邀请码"), max_length=64,
                           widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters",
                                                         "placeholder": "XXXX-XXXX"}))


class PhoneForm(forms.Form):
    phone = forms.CharField(label=_("手机号码"), max_length=20,
                            widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))
    otp = forms.CharField(label=_("短信验证码"), max_length=12, required=False,
                          widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}))

    def clean_phone(self):
        phone = normalise_phone(self.cleaned_data["phone"])
        if not MOBILE_RE.match(phone):
            raise forms.ValidationError(_("手机号码应为 11 位手机号"))
        return phone


def _survey(slug: str) -> Survey:
    survey = Survey.objects.filter(slug=slug).exclude(status=SurveyStatus.DRAFT).first()
    if survey is None:
        raise Http404
    return survey


def _session_key(survey: Survey) -> str:
    return f"survey:{survey.pk}"


def _lookup_throttle_message() -> str:
    return _t("尝试次数过多，请 %(minutes)d 分钟后再试。") % {
        "minutes": max(1, int(rule("public_lookup_window_seconds")) // 60)}


@never_cache
@require_http_methods(["GET", "POST"])
def entry(request, slug):
    survey = _survey(slug)
    phone_groups = list(survey.groups.filter(open_to_phone=True))
    code_form = CodeForm(initial={"code": request.GET.get("code", "")[:64]})
    phone_form = PhoneForm()
    context = {"survey": survey, "code_form": code_form, "phone_form": phone_form, "phone_open": bool(phone_groups),
               "sent": False, "error": ""}
    status = 200
    if request.method == "POST" and survey.status == SurveyStatus.OPEN:
        address = client_address(request)
        op = request.POST.get("op")
        if op == "code":
            code_form = context["code_form"] = CodeForm(request.POST)
            if is_throttled(address):
                context["error"], status = _lookup_throttle_message(), 429
            elif code_form.is_valid():
                invitation = actions.find_invitation(survey, code_form.cleaned_data["code"])
                if invitation is None or invitation.used:
                    count_failure(address)
                    # Unknown, used, or another survey's: one answer, so a code's fate is not told.
                    code_form.add_error("code", _t("邀请码无效或已使用，请核对后重新输入"))
                    status = 400
                else:
                    request.session[_session_key(survey)] = {"invitation": invitation.pk}
                    return redirect("surveys-public:answer", survey.slug)
            else:
                status = 400
        elif op in ("send", "verify") and phone_groups:
            phone_form = context["phone_form"] = PhoneForm(request.POST)
            if not phone_form.is_valid():
                status = 400
            else:
                phone = phone_form.cleaned_data["phone"]
                phone_digest = digest(phone)
                try:
                    if op == "send":
                        guard.send_code(survey, phone=phone, phone_digest=phone_digest, address=address)
                        context["sent"] = True
                    else:
                        if is_throttled(address):
                            raise guard.Refused(_lookup_throttle_message(), "otp", status=429)
                        if not guard.check_code(survey, phone_digest=phone_digest, code=phone_form.cleaned_data["otp"]):
                            count_failure(address)
                            raise guard.Refused(_t("验证码不正确或已过期，请重新获取"), "otp")
                        if Ballot.objects.filter(key=Ballot.for_phone(survey, phone_digest)).exists():
                            # Told only to whoever just proved he holds the phone.
                            raise guard.Refused(_t("该手机号已参加过本次评议，每个手机号只能提交一次"), "phone")
                        request.session[_session_key(survey)] = {"phone_digest": phone_digest}
                        return redirect("surveys-public:answer", survey.slug)
                except guard.Refused as exc:
                    phone_form.add_error(exc.field or None, exc.message)
                    context["sent"] = op == "verify"
                    status = exc.status
    return render(request, "surveys/public_entry.html", context, status=status)


def _questions(survey):
    qs = list(survey.questions.all())
    return [q for q in qs if q.kind == QuestionKind.SCALE], [q for q in qs if q.kind == QuestionKind.TEXT]


def _read_answers(post, organs, scale, texts) -> tuple[dict, dict]:
    """(answers for the action, values to show again). A level that is not 1–5 is left for the action
    to refuse, so a forged form gets the same clear message as any other bad level."""
    answers, shown = {}, {}
    for organ in organs:
        for q in scale:
            name = f"a-{organ.pk}-{q.pk}"
            raw = (post.get(name) or "").strip()
            shown[name] = raw
            if raw:
                answers[(organ.pk, q.pk)] = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 3 else -1
        for q in texts:
            name = f"a-{organ.pk}-{q.pk}"
            shown[name] = post.get(name, "")
            answers[(organ.pk, q.pk)] = post.get(name, "")
    return answers, shown


@never_cache
@require_http_methods(["GET", "POST"])
def answer(request, slug):
    survey = _survey(slug)
    who = request.session.get(_session_key(survey))
    if survey.status != SurveyStatus.OPEN or not who:
        return redirect("surveys-public:entry", survey.slug)
    invitation = None
    if who.get("invitation"):
        invitation = Invitation.objects.select_related("group").filter(pk=who["invitation"], survey=survey).first()
        if invitation is None:
            raise Http404
    phone_groups = [] if invitation else list(survey.groups.filter(open_to_phone=True))
    organs = list(survey.organs.order_by("name"))
    scale, texts = _questions(survey)
    context = {"survey": survey, "organs": organs, "scale": scale, "texts": texts, "levels": LEVEL_CHOICES,
               "groups": phone_groups, "group": invitation.group if invitation else None,
               "stamp": guard.issue_stamp(), "values": {}, "error": "", "chosen_group": ""}
    status = 200
    if request.method == "POST":
        address = client_address(request)
        answers, context["values"] = _read_answers(request.POST, organs, scale, texts)
        context["chosen_group"] = request.POST.get("group", "")
        try:
            if guard.over_limit("submit", address):
                raise guard.Refused(_t("本网络提交次数过多，请稍后再试"), status=429)
            guard.check_honeypot(request.POST.get("website", ""))
            guard.check_stamp(request.POST.get("stamp", ""))
            group = None
            if invitation is None:
                group = next((g for g in phone_groups if str(g.pk) == context["chosen_group"]), None)
                if group is None and len(phone_groups) == 1:
                    group = phone_groups[0]
            actions.do_submit_response(survey, answers=answers, invitation=invitation, group=group,
                                       phone_digest=who.get("phone_digest", ""))
        except (guard.Refused, actions.SurveyError) as exc:
            context["error"] = exc.message
            status = getattr(exc, "status", 400)
        else:
            guard.count("submit", address)
            request.session.pop(_session_key(survey), None)
            return redirect("surveys-public:done", survey.slug)
    context["rows"] = _rows(organs, scale, texts, context["values"])
    return render(request, "surveys/public_answer.html", context, status=status)


def _rows(organs, scale, texts, values):
    """What the template loops over: per organ its questions with the names and the values given."""
    out = []
    for organ in organs:
        out.append({"organ": organ,
                    "scale": [{"q": q, "name": f"a-{organ.pk}-{q.pk}", "value": values.get(f"a-{organ.pk}-{q.pk}", "")}
                              for q in scale],
                    "texts": [{"q": q, "name": f"a-{organ.pk}-{q.pk}", "value": values.get(f"a-{organ.pk}-{q.pk}", "")}
                              for q in texts]})
    return out


@never_cache
def done(request, slug):
    survey = _survey(slug)
    return render(request, "surveys/public_done.html", {"survey": survey})
