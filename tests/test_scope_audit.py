"""Scope audit: nothing of 天河 reaches anyone who may not see it, by any road.

One piece of 天河 life is built through the actions — an accepted case that ran past its
promise (so the monitor raised alerts and a supervision order), a complaint routed to the
天河 bureau, a named bad rating of it and a batch from its own approval system — and then
every road is tried by people who stand outside 天河: list pages and their Excel exports,
filters that name a 天河 organ or region, detail pages, API lists and details, attachment
downloads, dashboards and statistics, and the Django admin.

What tests/test_scope_roles.py and the per-area tests already cover (organs, regions,
staff and clocks per persona; the outsider and the 深圳 handler on each area's pages) is not
repeated. New here are strangers who hold a *region* grant elsewhere (深圳市, or the
neighbouring 越秀区), the anonymous visitor on every staff road at once, dashboards and
statistics counted for strangers, the admin, and references that cross from one region's
record to another's.
"""
import io
import json
from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from tests.conftest import make_organ, make_user
from xiaoneng.approvals import actions as cases
from xiaoneng.approvals.exchange import keys as exchange_keys
from xiaoneng.clocks import monitor
from xiaoneng.clocks.models import Clock
from xiaoneng.complaints import actions as complaints
from xiaoneng.complaints import ratings
from xiaoneng.complaints.identity import Identity
from xiaoneng.orgs.models import Role
from xiaoneng.supervision import stats
from xiaoneng.supervision.models import Alert, SupervisionOrder

SH = ZoneInfo("Asia/Shanghai")
PERIOD = "from=2026-09&to=2026-11"

# The complainant of the `desk` fixture, and the rater and applicant of the land below.
COMPLAINANT = ["张三丰", "13812345678", "11010519491231002X", "天河路1号"]
RATER = ["诸葛亮明", "13633334444"]
APPLICANT = ["欧阳修文", "13711112222"]


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def tianhe(world, matters, desk):
    """A late case (alerts, an order), a routed complaint and a named bad rating, all in 天河."""
    t = SimpleNamespace(w=world, desk=desk)
    t.case, _code = cases.do_submit_case(matter=matters.licence, case_no="TH-AUDIT-0001", applicant_name=APPLICANT[0],
                                         applicant_phone=APPLICANT[1], received_at=at("2026-09-28T10:00"))
    cases.do_accept_case(t.case, at=at("2026-09-28T11:00"))
    monitor.run_pass(at("2026-10-15T09:00"))
    monitor.run_pass(at("2026-10-17T09:00"))
    t.alert = Alert.objects.filter(organ=world.tianhe_bureau).order_by("pk").first()
    t.order = SupervisionOrder.objects.get(organ=world.tianhe_bureau)
    t.clock = Clock.objects.filter(organ=world.tianhe_bureau).order_by("pk").first()
    complaint, _secret = desk.file(title="天河哨兵投诉", content="窗口一再推诿。")
    complaints.do_accept(complaint)
    t.complaint = complaints.do_route(complaint, organ=world.tianhe_bureau)
    t.rating = ratings.do_rate_service(
        kind="offline", organ=world.tianhe_bureau, level=1, window="9号窗口", comment="天河哨兵差评",
        scores={"overall": 1, "efficiency": 1, "competence": 1, "attitude": 1},
        rater=Identity.of(name=RATER[0], phone=RATER[1]), rated_at=at("2026-11-02T09:00"))
    # Anything of these, named anywhere, is a leak to a stranger.
    t.sentinels = [t.case.case_no, APPLICANT[0], t.complaint.number, t.complaint.title, "天河哨兵差评", RATER[0],
                   t.order.number, world.tianhe_bureau.name, world.tianhe_station.name, matters.licence.code]
    return t


@pytest.fixture
def strangers(world):
    """People with a region grant outside 天河: in 深圳市, or in 越秀区 next door."""
    return {
        "sz_supervisor": make_user("sz_supervisor", Role.SUPERVISOR, region=world.sz),
        "sz_officer": make_user("sz_officer", Role.COMPLAINT_OFFICER, region=world.sz),
        "sz_auditor": make_user("sz_auditor", Role.AUDITOR, region=world.sz),
        "sz_admin": make_user("sz_admin", Role.ADMIN, region=world.sz, is_staff=True),
        "yx_supervisor": make_user("yx_supervisor", Role.SUPERVISOR, region=world.yuexiu),
    }


STRANGERS = ["sz_supervisor", "sz_officer", "sz_auditor", "sz_admin", "yx_supervisor"]


@pytest.fixture
def exchange(tianhe, client):
    """天河's own approval system reports a submission through the exchange API."""
    w = tianhe.w
    _source, key = exchange_keys.do_create_source(code="th-approvals", name="天河审批系统",
                                                  organ_codes=[w.tianhe_bureau.credit_code])
    event = {"event_id": "E1", "type": "submitted", "occurred_at": at("2026-09-28T10:00").isoformat(),
             "case_no": "TH-XCH-0001", "matter_code": "440106-SP-001", "organ_code": w.tianhe_bureau.credit_code,
             "applicant_name": "欧阳交换", "applicant_phone": "13755556666"}
    response = client.post("/api/v1/exchange/events", data=json.dumps([event], ensure_ascii=False),
                           content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200 and response.json()["accepted"] == 1
    return ["TH-XCH-0001", "欧阳交换", "天河审批系统"]


# --- helpers -----------------------------------------------------------------------------------
def content(response) -> bytes:
    return b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content


def is_xlsx(response) -> bool:
    return "spreadsheetml" in response.get("Content-Type", "")


def sheet_rows(response) -> list[list]:
    book = load_workbook(io.BytesIO(content(response)))
    return [list(row) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)]


def text(response) -> str:
    """The body as text; an Excel file as the text of all its cells."""
    if is_xlsx(response):
        return " ".join(str(v) for row in sheet_rows(response) for v in row if v is not None)
    return content(response).decode(errors="replace")


def named(response, sentinels) -> list[str]:
    body = text(response)
    return [s for s in sentinels if s in body]


DATA_LISTS = ["/cases/", "/clocks/", "/supervision/alerts/", "/supervision/orders/", "/complaints/", "/ratings/",
              "/audit/"]
ORG_LISTS = ["/orgs/", "/orgs/staff/", "/cases/matters/"]
API_LISTS = ["/api/v1/regions/", "/api/v1/organs/", "/api/v1/staff/", "/api/v1/clocks/", "/api/v1/complaints/"]


def detail_urls(t) -> list[str]:
    w = t.w
    return [
        f"/orgs/organs/{w.tianhe_bureau.pk}/", f"/orgs/organs/{w.tianhe_station.pk}/", f"/orgs/regions/{w.tianhe.code}/",
        f"/cases/{t.case.pk}/", f"/cases/matters/{t.case.matter_version.matter_id}/", f"/clocks/{t.clock.pk}/",
        f"/supervision/alerts/{t.alert.pk}/", f"/supervision/alerts/{t.alert.pk}/files/1/",
        f"/supervision/orders/{t.order.pk}/", f"/supervision/orders/{t.order.pk}/files/1/",
        f"/complaints/{t.complaint.pk}/", f"/ratings/{t.rating.pk}/",
        f"/dashboard/organ/{w.tianhe_bureau.pk}/", f"/dashboard/region/{w.tianhe.code}/",
        f"/dashboard/region/{w.tianhe.code}/live/", f"/dashboard/region/{w.tianhe.code}/trend/",
        f"/dashboard/organs/?region={w.tianhe.code}", f"/dashboard/board/?region={w.tianhe.code}",
        f"/dashboard/region/{w.tianhe.code}/trend/?export=xlsx", f"/dashboard/organ/{w.tianhe_bureau.pk}/?export=xlsx",
        f"/api/v1/organs/{w.tianhe_bureau.pk}/", f"/api/v1/regions/{w.tianhe.code}/", f"/api/v1/clocks/{t.clock.pk}/",
        f"/api/v1/complaints/{t.complaint.pk}/",
    ]


def foreign_filters(t) -> list[dict]:
    w = t.w
    return [{}, {"organ": w.tianhe_bureau.pk, "region": w.tianhe.code, "q": "天河"}, {"region": w.gz.code}]


# --- lists, filters and exports -----------------------------------------------------------------
@pytest.mark.parametrize("persona", STRANGERS)
def test_no_list_filter_or_export_shows_a_stranger_anything_of_tianhe(tianhe, strangers, login, persona):
    client = login(strangers[persona])
    for url in DATA_LISTS + ORG_LISTS:
        for params in foreign_filters(tianhe):
            for export in ({}, {"export": "xlsx"}):
                response = client.get(url, {**params, **export})
                where = f"{url} {params} {export}"
                assert response.status_code in (200, 404), where
                assert named(response, tianhe.sentinels) == [], where
                if export and response.status_code == 200:
                    assert is_xlsx(response), where
                    if url in DATA_LISTS and url != "/audit/":  # the audit log holds the stranger's own region
                        assert len(sheet_rows(response)) == 1, where  # the header only
    for url in API_LISTS:
        for params in foreign_filters(tianhe):
            response = client.get(url, {"page_size": 500, **params})
            assert response.status_code in (200, 400), (url, params)
            assert named(response, tianhe.sentinels) == [], (url, params)
            if url in ("/api/v1/clocks/", "/api/v1/complaints/") and response.status_code == 200:
                assert response.json()["count"] == 0, (url, params)


# --- guessed ids --------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", STRANGERS)
def test_every_tianhe_record_guessed_by_id_is_a_404_to_a_stranger(tianhe, strangers, login, persona):
    client = login(strangers[persona])
    for url in detail_urls(tianhe):
        response = client.get(url)
        assert response.status_code == 404, url
        assert named(response, tianhe.sentinels) == [], url
    for url in (f"/complaints/{tianhe.complaint.pk}/reveal/", f"/ratings/{tianhe.rating.pk}/reveal/"):
        response = client.post(url, {"purpose": "核实"})
        assert response.status_code == 404, url
        assert named(response, COMPLAINANT + RATER) == [], url


def test_an_anonymous_visitor_reaches_no_tianhe_record_through_any_staff_page_export_or_the_api(tianhe, client):
    urls = detail_urls(tianhe) + DATA_LISTS + ORG_LISTS + API_LISTS
    urls += [f"{u}?export=xlsx" for u in DATA_LISTS + ORG_LISTS] + ["/", "/dashboard/", "/complaints/stats/",
                                                                     "/ratings/stats/?export=organ"]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 401, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith("/login/"), url
        assert named(response, tianhe.sentinels) == [], url
    response = client.post(f"/complaints/{tianhe.complaint.pk}/reveal/", {"purpose": "核实"})
    assert response.status_code == 302 and named(response, COMPLAINANT) == []


# --- dashboards and statistics ------------------------------------------------------------------
def test_the_city_supervisor_s_dashboard_counts_the_tianhe_case_so_the_strangers_zeros_mean_something(
        tianhe, login):
    stats.refresh(full=True, now=at("2026-11-20T09:00"))
    context = login(tianhe.w.city_supervisor).get(f"/dashboard/?{PERIOD}").context
    assert context["totals"].received == 1
    assert context["live"]["open_overdue"] == 1 and context["live"]["open_orders"] == 1


@pytest.mark.parametrize("persona", ["sz_supervisor", "yx_supervisor"])
def test_a_stranger_supervisor_s_dashboard_charts_and_exports_count_nothing_of_tianhe(
        tianhe, strangers, login, persona):
    stats.refresh(full=True, now=at("2026-11-20T09:00"))
    client = login(strangers[persona])
    response = client.get(f"/dashboard/?{PERIOD}")
    assert response.status_code == 200
    context = response.context
    assert context["totals"].received == 0 and context["totals"].late == 0
    assert set(context["live"].values()) == {0}
    assert all(v in (0, None) for s in context["trend_chart"]["series"] for v in s["values"])
    assert named(response, tianhe.sentinels) == []
    for url in ("/dashboard/", "/dashboard/organs/", "/dashboard/board/"):
        exported = client.get(f"{url}?{PERIOD}&export=xlsx")
        assert exported.status_code == 200 and named(exported, tianhe.sentinels) == [], url


@pytest.mark.parametrize("persona", ["sz_officer", "shenzhen_handler"])
def test_complaint_and_rating_statistics_count_nothing_of_tianhe_for_a_stranger(tianhe, strangers, login, persona):
    user = strangers.get(persona) or getattr(tianhe.w, persona)
    client = login(user)
    page = client.get("/complaints/stats/")
    assert page.status_code == 200 and named(page, tianhe.sentinels) == []
    for dimension in ("channel", "organ", "region", "category", "result", "satisfaction", "status"):
        rows = sheet_rows(client.get("/complaints/stats/", {"export": dimension}))
        assert sum(r[1] for r in rows[1:]) == 0, dimension
    page = client.get("/ratings/stats/")
    assert page.status_code == 200 and page.context["total"].total == 0
    for export in ("organ", "matter"):
        response = client.get("/ratings/stats/", {"export": export})
        assert named(response, tianhe.sentinels) == [], export
        assert [r[2] for r in sheet_rows(response)[1:]] == [0], export  # only the 合计 row, counting nothing


# --- the admin ----------------------------------------------------------------------------------
ADMIN_LISTS = ["/admin/", "/admin/clocks/clock/", "/admin/complaints/complaint/", "/admin/complaints/rating/",
               "/admin/audit/auditentry/", "/admin/orgs/organ/", "/admin/orgs/staff/", "/admin/orgs/region/",
               "/admin/orgs/post/"]


@pytest.mark.parametrize("persona", ["sz_auditor", "sz_admin", "shenzhen_handler"])
def test_the_admin_lists_and_change_pages_show_a_staff_stranger_nothing_of_tianhe(tianhe, strangers, login, persona):
    user = strangers.get(persona) or getattr(tianhe.w, persona)
    user.is_staff = True
    user.save()
    client = login(user)
    w = tianhe.w
    changes = [f"/admin/clocks/clock/{tianhe.clock.pk}/change/", f"/admin/complaints/complaint/{tianhe.complaint.pk}/change/",
               f"/admin/complaints/rating/{tianhe.rating.pk}/change/", f"/admin/orgs/organ/{w.tianhe_bureau.pk}/change/",
               f"/admin/orgs/region/{w.tianhe.pk}/change/"]
    for url in ADMIN_LISTS:
        response = client.get(url)
        assert response.status_code in (200, 403), url
        assert named(response, tianhe.sentinels + COMPLAINANT + RATER) == [], url
    for url in changes:
        response = client.get(url)
        assert response.status_code in (302, 403, 404), url
        assert named(response, tianhe.sentinels) == [], url


def test_a_shenzhen_administrator_s_user_admin_does_not_list_tianhe_staff(tianhe, strangers, login):
    response = login(strangers["sz_admin"]).get("/admin/orgs/user/")
    assert response.status_code in (200, 403)
    assert "county_handler" not in text(response) and "county_leader" not in text(response)


def test_a_shenzhen_administrator_cannot_open_a_tianhe_user_in_the_admin(tianhe, strangers, login):
    response = login(strangers["sz_admin"]).get(f"/admin/orgs/user/{tianhe.w.county_handler.pk}/change/")
    assert response.status_code in (302, 403, 404)
    assert "county_handler" not in text(response)


def test_a_shenzhen_administrator_cannot_change_a_tianhe_user_nor_make_anyone_a_superuser(tianhe, strangers, login):
    from xiaoneng.orgs.models import User

    w, client = tianhe.w, login(strangers["sz_admin"])
    changed = client.post(f"/admin/orgs/user/{w.county_handler.pk}/change/",
                          {"username": "hijacked", "is_active": "on"})
    assert changed.status_code in (302, 403, 404)
    assert User.objects.filter(username="county_handler").exists()
    newcomer = User.objects.create_user("newcomer", password="a-long-password-1")
    saved = client.post(f"/admin/orgs/user/{newcomer.pk}/change/", {
        "username": "newcomer", "is_active": "on", "is_staff": "on", "is_superuser": "on",
        "date_joined_0": "2026-11-01", "date_joined_1": "09:00:00", "display_name": "新同事"})
    newcomer.refresh_from_db()
    assert saved.status_code == 302 and newcomer.display_name == "新同事"  # the form itself was taken
    assert newcomer.is_staff and not newcomer.is_superuser


def test_an_administrator_may_give_grants_only_inside_his_own_region(tianhe, strangers):
    from xiaoneng.orgs.admin import grantable
    from xiaoneng.orgs.models import Organ, Region

    w, sz_admin = tianhe.w, strangers["sz_admin"]
    regions = set(grantable(sz_admin, Region).values_list("code", flat=True))
    assert {w.sz.code, w.futian.code} <= regions and not regions & {w.gd.code, w.gz.code, w.tianhe.code}
    organs = set(grantable(sz_admin, Organ))
    assert {w.sz_bureau, w.futian_bureau} <= organs and w.tianhe_bureau not in organs


def test_a_shenzhen_administrator_reads_no_tianhe_exchange_batch_or_event(tianhe, strangers, exchange, login):
    from xiaoneng.approvals.models import ExchangeBatch, ExchangeEvent

    client = login(strangers["sz_admin"])
    urls = ["/admin/approvals/exchangebatch/", "/admin/approvals/exchangeevent/",
            f"/admin/approvals/exchangebatch/{ExchangeBatch.objects.get().pk}/change/",
            f"/admin/approvals/exchangeevent/{ExchangeEvent.objects.get().pk}/change/"]
    for url in urls:
        assert named(client.get(url), exchange + ["13755556666"]) == [], url


def test_a_shenzhen_administrator_sees_no_tianhe_exchange_source_and_is_offered_no_tianhe_organ(
        tianhe, strangers, exchange, login):
    client = login(strangers["sz_admin"])
    assert "天河审批系统" not in text(client.get("/admin/approvals/exchangesource/"))
    form = client.get("/admin/approvals/exchangesource/add/")
    assert form.status_code in (200, 403)
    assert named(form, [tianhe.w.tianhe_bureau.name, tianhe.w.tianhe_station.name, tianhe.w.gz_bureau.name]) == []


# --- references from one region's record to another's -------------------------------------------
@pytest.fixture
def futian_duplicate(tianhe):
    """The 天河 complainant complains in 福田 too (same phone, same category), to 深圳's office."""
    w = tianhe.w
    complaint, _secret = tianhe.desk.file(title="福田的投诉", content="福田窗口也推诿。", region=w.futian,
                                          named_organ="福田区市场监督管理局")
    complaints.do_accept(complaint)
    return complaints.do_route(complaint, organ=w.futian_bureau)


def test_a_complaint_by_the_same_person_to_another_office_is_not_flagged_as_a_duplicate(tianhe, futian_duplicate):
    assert futian_duplicate.office_id != tianhe.complaint.office_id
    assert futian_duplicate.possible_duplicate_id is None


def test_the_shenzhen_handler_s_pages_do_not_name_a_tianhe_complaint_flagged_as_a_duplicate(
        tianhe, futian_duplicate, login):
    client = login(tianhe.w.shenzhen_handler)
    for url in ("/complaints/", "/complaints/?export=xlsx", f"/complaints/{futian_duplicate.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert tianhe.complaint.number not in text(response), url


def test_the_shenzhen_handler_s_api_does_not_name_a_tianhe_complaint_flagged_as_a_duplicate(
        tianhe, futian_duplicate, login):
    client = login(tianhe.w.shenzhen_handler)
    for url in ("/api/v1/complaints/", f"/api/v1/complaints/{futian_duplicate.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert tianhe.complaint.number not in text(response), url


def test_a_handler_sees_that_a_complaint_is_flagged_but_not_the_number_of_one_routed_elsewhere(tianhe, login):
    """Same office, same person: flagged; the other complaint went to an organ this handler does not serve."""
    w = tianhe.w
    housing = make_organ("广州市天河区住房和城乡建设局", w.tianhe)
    handler = make_user("housing_handler", Role.HANDLER, organ=housing)
    second, _secret = tianhe.desk.file(title="住建窗口推诿", content="住建窗口也推诿。")
    assert second.possible_duplicate_id == tianhe.complaint.pk
    complaints.do_accept(second)
    complaints.do_route(second, organ=housing)
    client = login(handler)
    listed = client.get("/complaints/")
    assert "疑似重复" in text(listed) and tianhe.complaint.number not in listed.content.decode()
    detail = client.get(f"/complaints/{second.pk}/")
    assert "另有一件，不在您的查看范围内" in text(detail) and tianhe.complaint.number not in text(detail)
    exported = client.get("/complaints/?export=xlsx")
    assert "是" in text(exported) and tianhe.complaint.number not in text(exported)
    [row] = client.get("/api/v1/complaints/").json()["results"]
    assert (row["is_possible_duplicate"], row["possible_duplicate"]) == (True, None)
    officer_rows = login(w.complaint_officer).get("/api/v1/complaints/").json()["results"]
    assert {r["number"]: r["possible_duplicate"] for r in officer_rows}[second.number] == tianhe.complaint.number


# --- the complainant's identity -----------------------------------------------------------------
def test_after_an_audited_reveal_no_page_export_api_body_or_audit_row_of_tianhe_staff_holds_the_identity(
        tianhe, login):
    w, complaint, rating = tianhe.w, tianhe.complaint, tianhe.rating
    revealed = login(w.complaint_officer).post(f"/complaints/{complaint.pk}/reveal/", {"purpose": "核实投诉事实"})
    assert revealed.status_code == 200 and COMPLAINANT[0] in text(revealed)  # the audited road works
    assert "no-store" in revealed["Cache-Control"]
    roads = [f"/complaints/{complaint.pk}/", "/complaints/?export=xlsx", "/complaints/", "/api/v1/complaints/",
             f"/api/v1/complaints/{complaint.pk}/", f"/ratings/{rating.pk}/", "/ratings/?export=xlsx",
             "/audit/", "/audit/?export=xlsx", "/clocks/?export=xlsx"]
    for persona in ("county_handler", "county_leader", "auditor", "complaint_officer", "county_supervisor"):
        client = login(getattr(w, persona))
        for url in roads:
            response = client.get(url)
            if response.status_code == 200:
                assert named(response, COMPLAINANT + RATER) == [], (persona, url)
