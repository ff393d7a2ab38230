"""Every complaint clock is watched by the supervision engine like any other."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from xiaoneng.clocks import monitor
from xiaoneng.complaints import actions as act
from xiaoneng.supervision.models import Alert

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 2, 9, 0, tzinfo=CN)


def test_an_unaccepted_complaint_warns_the_office_and_then_gets_a_yellow_card(desk):
    complaint, _s = desk.file(received_at=MON)
    monitor.run_pass(MON + timedelta(days=4))  # Friday: one working day left
    warning = Alert.objects.get(rule="near_deadline")
    assert warning.organ == desk.tianhe_office
    monitor.run_pass(MON + timedelta(days=8))  # Tuesday after the deadline (Mon 11-09 24:00)
    overdue = Alert.objects.get(rule="complaint_acceptance_overdue")
    assert overdue.level == "yellow" and overdue.organ == desk.tianhe_office
    assert complaint.number in overdue.message


def test_a_routed_complaint_not_handled_in_time_is_an_alert_against_the_organ(desk, settings):
    settings.XIAONENG_RULES = {"supervision_rule_levels": {"complaint_handling_overdue": "red"}}
    complaint, _s = desk.file(received_at=MON, channel="hotline", source_ref="12345-1")
    act.do_accept(complaint, at=MON)
    act.do_route(complaint, organ=desk.w.tianhe_bureau, at=MON)
    monitor.run_pass(MON + timedelta(days=14))
    alert = Alert.objects.get(rule="complaint_handling_overdue")
    assert alert.organ == desk.w.tianhe_bureau and alert.level == "red"


def test_a_complaint_handled_in_time_raises_no_overdue_alert(desk):
    complaint, _s = desk.file(received_at=MON)
    act.do_accept(complaint, at=MON)
    act.do_route(complaint, organ=desk.w.tianhe_bureau, at=MON)
    act.do_report_handling(complaint, report="已办结", result="unfounded", at=MON + timedelta(days=2))
    monitor.run_pass(MON + timedelta(days=60))
    assert not Alert.objects.filter(rule__in=["complaint_handling_overdue", "complaint_acceptance_overdue"]).exists()
