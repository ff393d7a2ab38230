"""An action's error is placed the same way on every record page (web.forms.place_action_error)."""
from django import forms

from xiaoneng.web.forms import RecordActionForm


class Problem(Exception):
    def __init__(self, field, message):
        super().__init__(message)
        self.field, self.message = field, message


class NoteForm(RecordActionForm):
    note = forms.CharField(label="说明")
    token = forms.CharField(widget=forms.HiddenInput)
    field_map = {"reasons": "note"}
    field_words = {"status": "状态", "token": "令牌"}


def _placed(field) -> dict:
    form = NoteForm(data={"rev": "1", "note": "x", "token": "t"})
    assert form.is_valid()
    form.add_action_error(Problem(field, "不行"))
    return form.errors.get_json_data()


def test_an_error_on_a_visible_field_goes_under_it_also_by_its_action_name():
    assert _placed("note") == {"note": [{"message": "不行", "code": ""}]}
    assert _placed("reasons") == {"note": [{"message": "不行", "code": ""}]}


def test_an_error_on_a_hidden_or_absent_field_goes_on_the_form_led_by_the_field_in_words():
    assert _placed("token") == {"__all__": [{"message": "令牌：不行", "code": ""}]}
    assert _placed("status") == {"__all__": [{"message": "状态：不行", "code": ""}]}
    assert _placed("rev") == {"__all__": [{"message": "不行", "code": ""}]}
    assert _placed("") == {"__all__": [{"message": "不行", "code": ""}]}


def test_a_case_that_cannot_make_the_change_says_so_about_its_status(matters):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from xiaoneng.approvals.actions import do_submit_case
    from xiaoneng.approvals.forms import RefuseForm
    from xiaoneng.approvals.workflow import TransitionError

    case, _code = do_submit_case(matter=matters.licence, case_no="TH-2026-0001", applicant_name="张三",
                                 received_at=datetime(2026, 9, 28, 10, tzinfo=ZoneInfo("Asia/Shanghai")))
    case.status = "decided"
    form = RefuseForm(data={}, case=case)
    form.add_action_error(TransitionError(case, "refused"))
    assert form.non_field_errors()[0].startswith("办件状态：办件 TH-2026-0001 当前为“已决定”")
