"""The clock list's export texts rendered by PostgreSQL are the ones Python renders, cell for cell:
deadlines in their legal form (midnight is 24:00 of the day before), kinds, units and states in
words, overdue and provisional as 是 / 否."""
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from xiaoneng.clocks.models import Clock
from xiaoneng.clocks.views import python_rendered_rows, sql_rendered_rows

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=SH)
LABELS = {"kinds": {"case.legal": "法定时限", "case.promise": "承诺时限"}, "other_kind": "其他时限",
          "units": {"working": "个工作日", "calendar": "日"}, "states": {"running": "计时中", "stopped": "已停止"},
          "yes": "是", "no": "否", "stopped": "stopped", "now": NOW}


@pytest.mark.postgres
def test_postgresql_renders_the_same_cells_as_python(world):
    if connection.vendor != "postgresql":
        pytest.skip("the texts are rendered by PostgreSQL only there")
    start = datetime(2026, 11, 2, 9, 30, tzinfo=SH)
    common = {"start_at": start, "limit": 20, "region_code": world.tianhe.prefix}
    Clock.objects.bulk_create([
        # midnight: 24:00 of the day before; a label with markup and a control character
        Clock(kind="case.legal", label="A&B <审批> \x07第1号", organ=world.tianhe_bureau, unit="working",
              state="running", warn_at=datetime(2026, 11, 25, 0, 0, tzinfo=SH),
              due_at=datetime(2026, 11, 28, 0, 0, tzinfo=SH), extension_days=5, provisional=True, **common),
        # no label: the kind's name; an unknown kind; seconds dropped; no warning; no organ
        Clock(kind="test.unknown", label="", organ=None, unit="calendar", state="running", warn_at=None,
              due_at=datetime(2026, 11, 19, 17, 45, 59, tzinfo=SH), extension_days=0, **common),
        # stopped after its due time: overdue; stopped before it: not
        Clock(kind="case.promise", label="", organ=world.yuexiu_bureau, unit="working", state="stopped",
              stopped_at=datetime(2026, 11, 29, 10, 0, tzinfo=SH), due_at=datetime(2026, 11, 29, 0, 0, tzinfo=SH),
              warn_at=datetime(2026, 11, 26, 0, 0, 0, 500, tzinfo=SH), **common),
        Clock(kind="case.promise", label="按时", organ=world.yuexiu_bureau, unit="odd", state="paused",
              stopped_at=None, due_at=datetime(2026, 12, 1, 0, 0, tzinfo=SH), **common),
    ])
    queryset = Clock.objects.order_by("pk")
    by_sql, by_python = list(sql_rendered_rows(queryset, **LABELS)), list(python_rendered_rows(queryset, **LABELS))
    assert by_sql == by_python
    assert by_sql[0][6:8] == ("2026-11-24 24:00", "2026-11-27 24:00")
    assert by_sql[1][:3] == ("其他时限", "其他时限", "") and by_sql[1][7] == "2026-11-19 17:45"
    assert by_sql[2][9] == "是" and by_sql[3][9] == "否" and by_sql[3][4] == "20 odd"
