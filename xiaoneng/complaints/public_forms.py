"""Forms of the complainant's pages: the complaint, the follow-up look-up, rating and review.

The complaint form only gathers and shapes the input; the rules (identity checks,
content length, reply channel needs) live in `actions.do_register_complaint`, and the
view puts its `ComplaintError` on the field it names. The anti-abuse fields are
checked by `antibot` from the view, before anything is registered.
"""
from __future__ import annotations

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from xiaoneng.conf import rule
from xiaoneng.lib import uploads
from xiaoneng.orgs.models import Organ, Region

from .identity import Identity
from .models import Category, ReplyChannel, Satisfaction

ANONYMOUS_CHOICES = [("0", _("实名投诉")), ("1", _("匿名投诉"))]
# ComplaintError.field (from the actions) → the form field that shows it.
FIELD_OF_ERROR = {"region": "county", "number": None, "received_at": None, "channel": None, "lat": None,
                  "long": None, "source_ref": None}


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class OrganChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.name


def _text(label, max_length, required=False, **attrs):
    return forms.CharField(label=label, max_length=max_length, required=required,
                           widget=forms.TextInput(attrs={"maxlength": max_length, **attrs}))


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class AttachmentsField(forms.FileField):
    """Up to `complaint_attachment_max_count` pictures or PDFs, each judged by its content (lib.uploads)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png,application/pdf"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = [f for f in (data if isinstance(data, (list, tuple)) else [data]) if f]
        limit = int(rule("complaint_attachment_max_count"))
        if len(files) > limit:
            raise forms.ValidationError(_("最多上传 %(n)d 个附件") % {"n": limit})
        max_bytes = int(rule("complaint_attachment_max_bytes"))
        messages = {"too_big": _("附件“%(name)s”超过 %(limit)d MB"),
                    "type": _("附件“%(name)s”不是 JPEG、PNG 图片或 PDF 文件")}
        try:
            return [uploads.check(f, allowed=set(uploads.SIGNATURES), max_bytes=max_bytes, messages=messages)
                    for f in files]
        except uploads.UploadRefused as refused:
            raise forms.ValidationError(str(refused)) from None


class ComplaintForm(forms.Form):
    """What a citizen fills in; the region is chosen province → city → county."""

    category = forms.ModelChoiceField(label=_("投诉类别"), queryset=Category.objects.none(),
                                      empty_label=_("请选择"), error_messages={"required": _("请选择投诉类别")})
    province = RegionChoiceField(label=_("省"), queryset=Region.objects.none(), to_field_name="code",
                                 empty_label=_("请选择"), error_messages={"required": _("请选择事发地区")})
    city = RegionChoiceField(label=_("市"), queryset=Region.objects.none(), to_field_name="code", required=False,
                             empty_label=_("全省 / 请选择"))
    county = RegionChoiceField(label=_("县（区）"), queryset=Region.objects.none(), to_field_name="code",
                               required=False, empty_label=_("全市 / 请选择"))
    organ = OrganChoiceField(label=_("被投诉单位（可从列表选择）"), queryset=Organ.objects.none(), required=False,
                             empty_label=_("不在列表中 / 不清楚"))
    named_organ = _text(_("被投诉单位名称"), 200)
    title = _text(_("投诉标题"), 200, required=True)
    content = forms.CharField(label=_("投诉内容"), widget=forms.Textarea(attrs={"rows": 8}))
    address_string = _text(_("事发地点（可不填）"), 200)
    attachments = AttachmentsField(label=_("附件（可不传）"))
    anonymous = forms.TypedChoiceField(label=_("投诉方式"), choices=ANONYMOUS_CHOICES, coerce=lambda v: v == "1",
                                       initial="0", widget=forms.RadioSelect)
    name = _text(_("姓名"), 50, autocomplete="name")
    phone = _text(_("联系电话"), 20, autocomplete="tel", inputmode="tel")
    id_number = _text(_("身份证号码（可不填）"), 18)
    address = _text(_("通讯地址"), 200, autocomplete="street-address")
    email = forms.CharField(label=_("电子邮件"), max_length=200, required=False,
                            widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    reply_channel = forms.ChoiceField(label=_("答复方式"), choices=ReplyChannel.choices, initial=ReplyChannel.SMS)
    # Anti-abuse: a field people never see, the signed issue stamp, the proof-of-work payload.
    website = forms.CharField(label=_("网址（请留空）"), required=False,
                              widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))
    issued = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["content"].max_length = int(rule("complaint_max_content_chars"))
        self.fields["content"].widget.attrs["maxlength"] = self.fields["content"].max_length
        self.fields["title"].error_messages["required"] = _("请填写投诉标题")
        self.fields["content"].error_messages["required"] = _("请填写投诉内容")
        self.fields["attachments"].help_text = _("照片或 PDF，最多 %(n)d 个，每个不超过 %(mb)d MB。请勿上传与投诉无关的个人证件。") % {
            "n": rule("complaint_attachment_max_count"), "mb": int(rule("complaint_attachment_max_bytes")) // (1024 * 1024)}
        self.fields["named_organ"].help_text = _("列表中没有时，请写明单位名称")
        for name in ("province", "city", "county"):
            # Each select refreshes the region group (htmx); without script the form still posts.
            self.fields[name].widget.attrs.update({
                "hx-get": reverse("complaints-public:regions"), "hx-include": "#region-fields",
                "hx-target": "#region-fields", "hx-swap": "outerHTML", "class": "region-select"})
        provinces = Region.objects.filter(level=1)
        self.fields["province"].queryset = provinces
        if not self.is_bound and "province" not in self.initial and provinces.count() == 1:
            self.initial["province"] = provinces.first().code
        chosen = self.chosen_codes()
        self.fields["city"].queryset = Region.objects.filter(parent__code=chosen["province"], level=2)
        self.fields["county"].queryset = Region.objects.filter(parent__code=chosen["city"], level=3)
        region_code = chosen["county"] or chosen["city"] or chosen["province"]
        self.fields["organ"].queryset = Organ.objects.filter(region__code=region_code, is_active=True).order_by(
            "name") if region_code else Organ.objects.none()

    def chosen_codes(self) -> dict[str, str]:
        """The region codes picked so far, each one only if it lies under the one above."""
        source = self.data if self.is_bound else self.initial

        def code(name: str) -> str:  # a region code is digits; anything else (a NUL) picks nothing
            value = str(source.get(name) or "")[:12]
            return value if value.isdigit() else ""

        province, city, county = code("province"), code("city"), code("county")
        if not city.startswith(Region.prefix_for(province, 1)) or not province:
            city = ""
        if not county.startswith(Region.prefix_for(city, 2)) or not city:
            county = ""
        return {"province": province, "city": city, "county": county}

    def clean(self):
        data = super().clean()
        province, city, county = data.get("province"), data.get("city"), data.get("county")
        if city and province and city.parent_id != province.pk:
            self.add_error("city", _("所选城市不属于所选省份"))
        if county and city and county.parent_id != city.pk:
            self.add_error("county", _("所选县（区）不属于所选城市"))
        if county and not city:
            self.add_error("city", _("请先选择城市"))
        if not data.get("named_organ", "").strip() and not data.get("organ"):
            self.add_error("named_organ", _("请填写或选择被投诉单位"))
        return data

    @property
    def region(self) -> Region | None:
        data = self.cleaned_data
        return data.get("county") or data.get("city") or data.get("province")

    def identity(self) -> Identity:
        data = self.cleaned_data
        return Identity.of(name=data["name"], phone=data["phone"], id_number=data["id_number"].upper(),
                           address=data["address"], email=data["email"])

    def error_field(self, field: str) -> str | None:
        """Where to show an error the actions raised about `field` (None: above the form)."""
        if field in FIELD_OF_ERROR:
            return FIELD_OF_ERROR[field]
        return field if field in self.fields else None


class TrackForm(forms.Form):
    number = forms.CharField(label=_("投诉编号"), max_length=24,
                             error_messages={"required": _("请填写投诉编号")},
                             widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}))
    secret = forms.CharField(label=_("查询码"), max_length=16, error_messages={"required": _("请填写查询码")},
                             widget=forms.PasswordInput(attrs={"autocomplete": "off"}))


class RateForm(forms.Form):
    level = forms.TypedChoiceField(label=_("您对答复的评价"), choices=Satisfaction.choices, coerce=int, widget=forms.RadioSelect,
                                   error_messages={"required": _("请选择满意程度"),
                                                   "invalid_choice": _("请从五个等级中选择一项")})
    comment = forms.CharField(label=_("评价意见（可不填）"), max_length=500, required=False,
                              widget=forms.Textarea(attrs={"rows": 3, "maxlength": 500}))


class AppealForm(forms.Form):
    reasons = forms.CharField(label=_("申请复核的理由"), max_length=2000,
                              error_messages={"required": _("请写明申请复核的理由")},
                              widget=forms.Textarea(attrs={"rows": 4, "maxlength": 2000}))
