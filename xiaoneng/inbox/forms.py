"""Forms of the inbox pages: preferences, a reminder (催办), a case extension decision."""
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Channel, Kind

KIND_HELP = {
    Kind.CARD: _("本机关被亮黄牌、红牌"),
    Kind.ORDER: _("本机关被督办"),
    Kind.COMPLAINT: _("投诉转办到本机关"),
    Kind.DEADLINE: _("我办理的事项临近到期"),
    Kind.REMINDER: _("监察员催办"),
    Kind.EXTENSION: _("延期申请待我审批或已审批"),
    Kind.ACCOUNTABILITY: _("对我或本机关人员的问责告知、决定、送达和复核申诉结果"),
    Kind.APPRAISAL: _("我的考核结果和复核决定"),
}


class PreferenceForm(forms.Form):
    phone = forms.CharField(label=_("接收短信的手机号"), max_length=20, required=False)

    def __init__(self, *args, preference=None, **kwargs):
        super().__init__(*args, **kwargs)
        if preference is not None:
            self.fields["phone"].initial = preference.phone
        for kind, label in Kind.choices:
            self.fields[f"kind_{kind}"] = forms.MultipleChoiceField(
                label=label, required=False, choices=Channel.choices, widget=forms.CheckboxSelectMultiple,
                help_text=KIND_HELP[kind], initial=preference.wants(kind) if preference is not None else [],
            )

    def channels(self) -> dict:
        return {kind: self.cleaned_data.get(f"kind_{kind}", []) for kind in Kind.values}

    def kind_fields(self):
        return [self[f"kind_{kind}"] for kind in Kind.values]


class ReminderForm(forms.Form):
    text = forms.CharField(label=_("催办内容"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)


class DecideExtensionForm(forms.Form):
    decision = forms.ChoiceField(label=_("审批意见"), choices=[("approve", _("批准延长")), ("refuse", _("不予批准"))],
                                 widget=forms.RadioSelect)
    note = forms.CharField(label=_("说明"), required=False, max_length=1000, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("不予批准须说明理由"))
