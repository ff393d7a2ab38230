"""Excel import of regions and organs through the web, for province administrators.

An import can touch any region or organ of the province, so it is offered only to
users whose "org.manage" grant covers a whole province (or superusers); everyone else
gets 404 like any other page outside their scope.
"""
from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from xiaoneng.lib.xlsx import MAX_IMPORT_BYTES

from . import access
from .imports import import_organs, import_regions


class ImportForm(forms.Form):
    what = forms.ChoiceField(label=_("导入内容"), choices=[("regions", _("行政区划")), ("organs", _("机关单位"))])
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))
    dry_run = forms.BooleanField(label=_("只检查，不写入"), required=False)

    def clean_file(self):
        f = self.cleaned_data["file"]
        if f.size > MAX_IMPORT_BYTES:
            raise forms.ValidationError(_("文件过大，上限 %(limit)d 字节"), params={"limit": MAX_IMPORT_BYTES})
        return f


def may_import(user) -> bool:
    return access.may_manage_province_settings(user, "org.manage")


@login_required
def import_page(request):
    if not may_import(request.user):
        raise Http404
    report = None
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        run = import_regions if form.cleaned_data["what"] == "regions" else import_organs
        report = run(form.cleaned_data["file"].read(), dry_run=form.cleaned_data["dry_run"])
    return render(request, "orgs/import.html", {"form": form, "report": report})


def _register_nav():
    from xiaoneng.web.nav import NavItem, register

    register(NavItem("orgs-import", _("导入区划与机关"), "orgs-import", section="system", check=may_import, order=15))


_register_nav()
