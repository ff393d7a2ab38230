"""登记办件: window staff register an application in the browser, and read its materials back.

1. The handler picks a matter of one of the organs they handle for (current version only).
2. The form asks for the applicant (a person's resident ID with its GB 11643 check character, or an
   organisation's unified social credit code), the phone, and the version's materials as a checklist,
   each with an optional scan (materials.py checks type, size and the virus hook).
3. It ends with 受理 (every material received) or 一次性告知补正 (the items listed at once, prefilled
   with the materials not ticked); `actions.do_register_case` does all of it in one transaction.

Materials are downloaded only through `material_download`, which finds the case inside the user's
scope exactly as the case page does (a case outside it, or a material of another case, is a 404).
"""
from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from xiaoneng.complaints.validation import id_number_error, phone_error
from xiaoneng.conf import rule
from xiaoneng.lib.codes import credit_code_error
from xiaoneng.orgs import access
from xiaoneng.orgs.models import Organ
from xiaoneng.web.forms import place_action_error

from . import actions
from .materials import ACCEPT_ATTR, check_file, human_size
from .models import CaseApplicant, CaseMaterial, Matter
from .views import _get_case

DECISIONS = {"accept": _("受理"), "correction": _("一次性告知补正")}


def registrable_matters(user):
    """Active matters with a current version, of the organs the user handles cases for."""
    organs = access.scoped(Organ.objects.all(), user, "handle")
    return (Matter.objects.filter(organ__in=organs, is_active=True, current__isnull=False)
            .select_related("organ", "current").order_by("code"))


class MatterChoiceForm(forms.Form):
    matter = forms.ModelChoiceField(label=_("事项"), queryset=Matter.objects.none(), empty_label=_("请选择事项"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["matter"].queryset = registrable_matters(user)
        self.fields["matter"].label_from_instance = lambda m: f"{m.code} {m.name}（{m.organ.name}）"


class RegisterForm(forms.Form):
    applicant_kind = forms.ChoiceField(label=_("申请人类型"), choices=CaseApplicant.Kind.choices,
                                       initial=CaseApplicant.Kind.PERSON, widget=forms.RadioSelect)
    applicant_name = forms.CharField(label=_("申请人"), max_length=100)
    applicant_code = forms.CharField(
        label=_("证件号码"), max_length=18,
        help_text=_("自然人填写18位居民身份证号码；法人或其他组织填写18位统一社会信用代码"))
    applicant_phone = forms.CharField(label=_("联系电话"), max_length=30)
    case_no = forms.CharField(label=_("办件编号"), max_length=64, required=False,
                              help_text=_("留空则按机关和年度自动编号"))
    correction_items = forms.CharField(
        label=_("需补正的材料"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("一次性告知补正时填写，每行一项；默认列出未勾选的材料"))

    def __init__(self, *args, version, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = version
        self.material_names = [str(m).strip() for m in (version.materials or []) if str(m).strip()]
        self.material_rows = []
        for i, name in enumerate(self.material_names):
            self.fields[f"m{i}_ok"] = forms.BooleanField(label=name, required=False)
            self.fields[f"m{i}_file"] = forms.FileField(
                label=_("“%(name)s”的扫描件") % {"name": name}, required=False,
                widget=forms.ClearableFileInput(attrs={"accept": ACCEPT_ATTR}))
            self.material_rows.append((name, f"m{i}_ok", f"m{i}_file"))
        self.fields["correction_items"].widget.attrs["data-material-items"] = "1"

    def rows(self):
        return [(name, self[ok], self[file]) for name, ok, file in self.material_rows]

    def clean_applicant_code(self):
        return self.cleaned_data["applicant_code"].strip().upper()

    def clean_applicant_phone(self):
        phone = self.cleaned_data["applicant_phone"].strip()
        error = phone_error(phone)
        if error:
            raise forms.ValidationError(error)
        return phone

    def clean(self):
        data = super().clean()
        code = data.get("applicant_code")
        if code:
            if data.get("applicant_kind") == CaseApplicant.Kind.ORGANISATION:
                error = credit_code_error(code)
            else:
                error = id_number_error(code)
            if error:
                self.add_error("applicant_code", error)
        self.checked_files, self.missing = [], []
        for name, ok, file in self.material_rows:
            upload = data.get(file)
            if upload:
                try:
                    self.checked_files.append(check_file(name, upload, file))
                except actions.CaseError as exc:
                    self.add_error(file, exc.message)
            elif not data.get(ok):
                self.missing.append(name)
        return data


def _decision(request) -> str:
    decision = request.POST.get("decision", "")
    return decision if decision in DECISIONS else ""


@require_http_methods(["GET", "POST"])
@login_required
def register(request):
    """Choose a matter (GET ?matter=), then register the application with its materials (POST)."""
    if not access.has_perm(request.user, "handle"):
        raise PermissionDenied
    chooser = MatterChoiceForm(request.GET or None, user=request.user)
    if not chooser.is_bound or not chooser.is_valid():
        return render(request, "approvals/register.html", {"chooser": chooser, "form": None})
    matter = chooser.cleaned_data["matter"]
    form = RegisterForm(request.POST or None, request.FILES or None, version=matter.current)
    decision = _decision(request)
    if request.method == "POST" and form.is_valid():
        items = [line.strip() for line in form.cleaned_data["correction_items"].splitlines() if line.strip()]
        if not decision:
            form.add_error(None, _t("请选择受理，或一次性告知补正"))
        elif decision == "accept" and form.missing:
            form.add_error(None, _t("材料不齐全，不能受理：缺少%(items)s。请一次性告知补正。")
                           % {"items": "、".join(form.missing)})
        elif decision == "correction" and not (items or form.missing):
            form.add_error("correction_items", _t("一次性告知补正必须列明全部需要补正的材料；材料齐全的请直接受理"))
        else:
            data = form.cleaned_data
            try:
                case, _code = actions.do_register_case(
                    matter=matter, applicant_kind=data["applicant_kind"], applicant_name=data["applicant_name"],
                    applicant_code=data["applicant_code"], applicant_phone=data["applicant_phone"],
                    case_no=data["case_no"], files=form.checked_files,
                    missing=(items or form.missing) if decision == "correction" else None,
                    accept=decision == "accept", by=request.user,
                )
            except actions.CaseError as exc:
                place_action_error(form, exc)
            else:
                messages.success(request, _t("已登记办件 %(no)s：%(decision)s") % {
                    "no": case.case_no, "decision": DECISIONS[decision]})
                return redirect(reverse("approvals:case", args=[case.pk]))
    return render(request, "approvals/register.html", {
        "chooser": chooser, "form": form, "matter": matter, "version": matter.current,
        "max_size": human_size(int(rule("case_material_max_bytes"))),
    })


@require_GET
@login_required
def material_download(request, pk: int, material: int):
    """One material of a case the user may read; a case or material outside that is a 404."""
    case, _perm = _get_case(request, pk)
    item = CaseMaterial.objects.filter(case=case, pk=material).first()
    if item is None:
        raise Http404
    name = "".join(c for c in item.name if c not in '/\\"\r\n')[:80] or str(item.pk)
    suffix = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png", "application/ofd": "ofd"}
    try:
        handle = item.file.open("rb")
    except OSError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, content_type=item.content_type,
                        filename=f"{case.case_no}-{name}.{suffix.get(item.content_type, 'bin')}")
