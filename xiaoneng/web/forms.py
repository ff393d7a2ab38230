"""The base of every action form on a record page (case, complaint, rating, alert, order).

A page draws one form per action the user may take (web/_action_panel.html,
web/_action_form.html). Each carries the record's revision in `rev`, so a replayed or
stale form finds the record changed and says so instead of acting twice. Subclasses set
`action`, `title`, their fields, `available()` and `perform()`, and put an action's
error on the field it names (`add_action_error`, whose rules differ per capability).
"""
from django import forms
from django.utils.translation import gettext_lazy as _


class RecordActionForm(forms.Form):
    action = ""
    title = ""
    danger = False  # drawn as a warning (refusal, denial, withdrawal, dismissal …)
    field_map: dict[str, str] = {}  # an action error's field -> form field, where the names differ

    rev = forms.CharField(label=_("页面版本"), widget=forms.HiddenInput)

    @property
    def hidden_errors(self) -> list[str]:
        """Errors on hidden inputs (the revision, the step), in words, for the form's summary."""
        return [f"{bf.label}：{error}" for bf in self.hidden_fields() for error in bf.errors]

    @classmethod
    def available(cls, record, *args) -> bool:
        """Whether the action applies to the record in its current state."""
        raise NotImplementedError

    def perform(self, record):
        raise NotImplementedError
