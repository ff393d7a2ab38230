"""The input checks every app's actions share (xiaoneng.lib.actions)."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.accountability.actions import AccountabilityError
from xiaoneng.appraisal.actions import AppraisalError
from xiaoneng.approvals.actions import CaseError
from xiaoneng.complaints.actions import ComplaintError
from xiaoneng.complaints.ratings import RatingError
from xiaoneng.inbox.actions import InboxError
from xiaoneng.lib.actions import ActionError
from xiaoneng.supervision.actions import SupervisionError


class OwnError(ActionError):
    pass


def test_a_time_without_a_zone_is_refused_naming_the_field():
    with pytest.raises(OwnError) as caught:
        OwnError.moment(datetime(2026, 12, 7, 9), "decided_at")
    assert (caught.value.field, caught.value.message) == ("decided_at", "时间缺少时区")


def test_a_date_where_a_time_is_expected_is_refused_not_a_crash():
    with pytest.raises(OwnError, match="时间格式不正确"):
        OwnError.moment(date(2026, 12, 7))


def test_no_time_means_now_and_a_zoned_time_is_kept():
    at = datetime(2026, 12, 7, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert OwnError.moment(at) is at
    assert OwnError.moment(None).tzinfo is not None


def test_a_required_text_is_stripped_and_refused_when_empty_missing_or_not_text():
    assert OwnError.text("  理由  ", "reasons", "请填写理由") == "理由"
    for bad in ("   ", None, 42, ["理由"]):
        with pytest.raises(OwnError) as caught:
            OwnError.text(bad, "reasons", "请填写理由")
        assert (caught.value.field, caught.value.message) == ("reasons", "请填写理由")


def test_a_text_over_its_limit_says_the_limit():
    with pytest.raises(OwnError, match="最多 10 字"):
        OwnError.text("字" * 11, "reasons", "请填写理由", limit=10)


@pytest.mark.parametrize("error", [AccountabilityError, AppraisalError, CaseError, ComplaintError, RatingError,
                                   InboxError, SupervisionError])
def test_every_apps_error_is_an_action_error_with_its_field(error):
    raised = error("不允许", "status")
    assert isinstance(raised, ActionError) and (raised.message, raised.field) == ("不允许", "status")
