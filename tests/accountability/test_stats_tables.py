"""The accountability statistics' tables: sortable and paged with the filters kept, charts of the
top and bottom N, the export with every row whatever page is shown."""
import io

import pytest
from django.test import override_settings
from django.urls import reverse
from openpyxl import load_workbook

from tests.accountability.test_stats import practice  # noqa: F401 - the fixture

pytestmark = pytest.mark.django_db
STATS = reverse("accountability:stats")


def table(response, key):
    return next(t for t in response.context["tables"] if t["key"] == key)


@override_settings(XIAONENG_RULES={"stats_chart_top_n": 1})
def test_a_table_charts_its_first_and_last_row_and_sorts_with_the_filter_kept(practice, acct, login):  # noqa: F811
    client = login(acct.world.county_supervisor)
    response = client.get(STATS, {"date_from": "2026-01-01"})
    status = table(response, "status")
    labels = [r.label for r in status["t"].rows]
    assert len(labels) == 3 and status["chart"]["split"]  # three statuses, one case each: the ends only
    assert status["chart"]["top"]["labels"] == labels[:1] and status["chart"]["bottom"]["labels"] == labels[-1:]
    by_label = table(client.get(STATS, {"date_from": "2026-01-01", "status_sort": "-label"}), "status")
    assert [r.label for r in by_label["t"].rows] == sorted(labels, reverse=True)
    assert "date_from=2026-01-01" in by_label["t"].sorts["value"].href
    assert 'class="table-sticky"' in response.content.decode()


def test_the_export_has_every_row_whatever_page_is_shown(practice, acct, login):  # noqa: F811
    client = login(acct.world.county_supervisor)
    shown = client.get(STATS, {"status_per_page": "25", "status_page": "9"})
    sheet = load_workbook(io.BytesIO(client.get(STATS, {"export": "xlsx", "status_page": "9"}).content)).active
    exported = [r for r in sheet.iter_rows(values_only=True) if r[0] == "按办理结果（案件数）"]
    assert len(exported) == len(table(shown, "status")["t"].page.paginator.object_list) == 3


def test_an_outsider_sees_no_table(practice, acct, login):  # noqa: F811
    assert login(acct.world.outsider).get(STATS, {"status_page": "2"}).status_code == 404
