"""The base of every action form on a record page (case, complaint, rating, alert, order).

A page draws one form per action the user may take (web/_action_panel.html,
web/_action_form.html). Each carries the record's revision in `rev`, so a replayed or
stale form finds the record changed and says so instead of acting twice. Subclasses set
`action`, `title`, their fields, `available()` and `perform()`; an action's error goes
where `place_action_error` puts it, the same way in every capability.
"""
from django import forms
from django.utils.translation import gettext_lazy as _


def place_action_error(form: forms.Form, exc: Exception, *, field_map: dict | None = None,
                       field_words: dict | None = None) -> None:
    """Put an action's error (an exception with `field` and `message`, or any exception) where
    the user sees it: under the visible input it names; otherwise on the form as a whole, led
    by the field in words where the form knows them ("办件状态：…") — a hidden input (the
    revision, a token) or a field the form does not have cannot show an error of its own."""
    field = getattr(exc, "field", "") or ""
    message = getattr(exc, "message", None) or str(exc)
    name = (field_map or {}).get(field, field)
    if name in form.fields and not form.fields[name].widget.is_hidden:
        form.add_error(name, message)
    elif field in (field_words or {}):
        form.add_error(None, f"{field_words[field]}：{message}")
    else:
        form.add_error(None, message)


class RecordActionForm(forms.Form):
    action = ""
    title = ""
    danger = False  # drawn as a warning (refusal, denial, withdrawal, dismissal …)
    field_map: dict[str, str] = {}  # an action error's field -> form field, where the names differ
    field_words: dict[str, str] = {}  # an action error's field -> words, for fields the form does not show

    rev = forms.CharField(label=_("页面版本"), widget=forms.HiddenInput)

    @property
    def hidden_errors(self) -> list[str]:
        """Errors on hidden inputs (the revision, the step), in words, for the form's summary."""
        return [f"{bf.label}：{error}" for bf in self.hidden_fields() for error in bf.errors]

    def add_action_error(self, exc: Exception) -> None:
        place_action_error(self, exc, field_map=self.field_map, field_words=self.field_words)

    @classmethod
    def available(cls, record, *args) -> bool:
        """Whether the action applies to the record in its current state."""
        raise NotImplementedError

    def perform(self, record):
        raise NotImplementedError
