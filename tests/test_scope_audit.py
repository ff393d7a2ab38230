import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.cache import cache
from django.urls import reverse
from openpyxl import load_workbook

from xiaoneng.approvals import actions as cases
from xiaoneng.clocks import monitor
from xiaoneng.complaints import actions as comp
from xiaoneng.complaints import ratings as r
from xiaoneng.complaints.identity import Identity
from xiaoneng.supervision.models import Alert, SupervisionOrder

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def land(world, matters, desk):
    cache.clear()
    w = world
    case, _ = cases.do_submit_case(matter=matters.licence, case_no="TH-AUDIT-0001", applicant_name="欧阳修文",
                                   applicant_phone="13711112222", received_at=at("2026-09-28T10:00"))
    cases.do_accept_case(case, at=at("2026-09-28T11:00"))
    monitor.run_pass(at("2026-10-15T09:00"))
    monitor.run_pass(at("2026-10-17T09:00"))
    complaint, _s = desk.file(title="哨兵投诉标题", content="哨兵投诉内容")
    comp.do_accept(complaint)
    complaint = comp.do_route(complaint, organ=w.tianhe_bureau)
    rating = r.do_rate_service(kind="offline", organ=w.tianhe_bureau, level=1,
                               scores={"overall": 1, "efficiency": 1, "competence": 1, "attitude": 1},
                               window="9号窗口", comment="哨兵差评内容",
                               rater=Identity.of(name="诸葛亮明", phone="13633334444"), rated_at=at("2026-11-02T09:00"))
    w.case, w.complaint, w.rating = case, complaint, rating
    w.alert = Alert.objects.filter(organ=w.tianhe_bureau).first()
    w.order = SupervisionOrder.objects.filter(organ=w.tianhe_bureau).first()
    return w


SENTINELS = ["TH-AUDIT-0001", "欧阳修文", "13711112222", "哨兵投诉", "哨兵差评", "诸葛亮明", "13633334444", "张三丰",
             "13812345678", "广州市天河区市场监督管理局", "天河区石牌市场监管所", "食品经营许可", "440106-SP-001"]


def body_text(resp):
    ct = resp.get("Content-Type", "")
    content = b"".join(resp.streaming_content) if getattr(resp, "streaming", False) else resp.content
    if "spreadsheetml" in ct:
        book = load_workbook(io.BytesIO(content))
        return " ".join(str(c.value) for s in book.worksheets for row in s.iter_rows() for c in row if c.value is not None)
    try:
        return content.decode()
    except UnicodeDecodeError:
        return repr(content[:200])


def urls(w):
    pk = dict(case=w.case.pk, complaint=w.complaint.pk, rating=w.rating.pk, alert=w.alert.pk, order=w.order.pk,
              organ=w.tianhe_bureau.pk, clock=__import__("xiaoneng.clocks.models", fromlist=["Clock"]).Clock.objects.filter(organ=w.tianhe_bureau).first().pk, matter=w.case.matter_version.matter_id)
    step = w.alert.steps.first().pk if w.alert.steps.exists() else 1
    ostep = w.order.steps.first().pk if w.order.steps.exists() else 1
    base = [
        "/", "/orgs/", "/orgs/staff/", f"/orgs/regions/{w.tianhe.code}/", f"/orgs/organs/{pk['organ']}/",
        "/cases/", f"/cases/{pk['case']}/", "/cases/matters/", f"/cases/matters/{pk['matter']}/",
        "/clocks/", f"/clocks/{pk['clock']}/", "/calendar/", "/audit/",
        "/supervision/alerts/", f"/supervision/alerts/{pk['alert']}/", f"/supervision/alerts/{pk['alert']}/files/{step}/",
        "/supervision/orders/", f"/supervision/orders/{pk['order']}/", f"/supervision/orders/{pk['order']}/files/{ostep}/",
        "/supervision/orders/new/",
        "/complaints/", f"/complaints/{pk['complaint']}/", "/complaints/stats/", "/complaints/intake/",
        "/ratings/", f"/ratings/{pk['rating']}/", "/ratings/stats/",
        "/dashboard/", "/dashboard/organs/", "/dashboard/board/", f"/dashboard/organ/{pk['organ']}/",
        f"/dashboard/region/{w.tianhe.code}/", f"/dashboard/region/{w.tianhe.code}/live/",
        f"/dashboard/region/{w.tianhe.code}/trend/",
        "/api/v1/regions/", f"/api/v1/regions/{w.tianhe.code}/", "/api/v1/organs/", f"/api/v1/organs/{pk['organ']}/",
        "/api/v1/staff/", "/api/v1/clocks/", f"/api/v1/clocks/{pk['clock']}/", "/api/v1/complaints/",
        f"/api/v1/complaints/{pk['complaint']}/", "/api/v1/calendar/days/?year=2026",
        "/api/v1/schema/", "/open311/v2/requests.json", f"/open311/v2/requests/{w.complaint.number}.json",
        "/public/cases/", "/public/complaints/track/", "/public/complaints/new/",
        f"/public/complaints/new/regions/?province=440000000000&city=440100000000&county=440106000000",
        f"/ratings/public/window/{pk['organ']}/9号窗口/", "/ratings/public/case/",
        "/orgs/import/", "/audit/verify/",
    ]
    out = []
    for u in base:
        out.append(u)
        sep = "&" if "?" in u else "?"
        if not u.startswith(("/public", "/ratings/public", "/open311")):
            out.append(u + sep + "export=xlsx")
            out.append(u + sep + f"organ={pk['organ']}&region={w.tianhe.code}")
            out.append(u + sep + f"organ={pk['organ']}&region={w.tianhe.code}&export=xlsx")
    for dim in ("channel", "organ", "region", "category", "result", "satisfaction", "status"):
        out.append(f"/complaints/stats/?export={dim}")
    out += ["/ratings/stats/?export=organ", "/ratings/stats/?export=matter",
            f"/dashboard/organs/?region={w.tianhe.code}&export=xlsx", f"/dashboard/board/?region={w.tianhe.code}&export=xlsx"]
    return out


@pytest.mark.parametrize("who", ["outsider", "shenzhen_handler", "anonymous", "sz_admin", "sz_auditor", "sz_supervisor", "sz_officer", "yx_supervisor"])
def test_probe(land, client, login, who):
    from tests.conftest import make_user as mk
    from xiaoneng.orgs.models import Role as R
    extra = {"sz_admin": R.ADMIN, "sz_auditor": R.AUDITOR, "sz_supervisor": R.SUPERVISOR, "sz_officer": R.COMPLAINT_OFFICER,
             "yx_supervisor": R.SUPERVISOR}
    if who in extra:
        login(mk(who, extra[who], region=land.yuexiu if who.startswith("yx") else land.sz))
    elif who != "anonymous":
        login(getattr(land, who))
    for u in urls(land):
        resp = client.get(u)
        text = body_text(resp) if resp.status_code == 200 else ""
        found = [s for s in SENTINELS if s in text]
        print(f"PROBE {who:18} {resp.status_code} {u} {found if found else ''}")


import json
from django.contrib import admin as djadmin
from tests.conftest import make_user
from xiaoneng.orgs.models import Role
from xiaoneng.approvals.exchange import keys as xkeys


@pytest.mark.parametrize("who", ["sz_admin", "sz_auditor", "sz_supervisor", "sz_officer", "shenzhen_handler", "outsider"])
def test_probe_admin(land, client, login, who):
    w = land
    src, key = xkeys.do_create_source(code="th-approvals", organ_codes=[w.tianhe_bureau.credit_code], name="天河审批系统")
    ev = {"event_id": "E1", "type": "submitted", "occurred_at": at("2026-09-28T10:00").isoformat(), "case_no": "TH-XCH-0001",
          "matter_code": "440106-SP-001", "organ_code": w.tianhe_bureau.credit_code, "applicant_name": "欧阳交换",
          "applicant_phone": "13755556666"}
    resp = client.post("/api/v1/exchange/events", data=json.dumps([ev], ensure_ascii=False), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {key}")
    print("XCH", resp.status_code, resp.content[:300])
    users = {
        "sz_admin": lambda: make_user("sz_admin", Role.ADMIN, region=w.sz, is_staff=True),
        "sz_auditor": lambda: make_user("sz_auditor", Role.AUDITOR, region=w.sz, is_staff=True),
        "sz_supervisor": lambda: make_user("sz_supervisor", Role.SUPERVISOR, region=w.sz, is_staff=True),
        "sz_officer": lambda: make_user("sz_officer", Role.COMPLAINT_OFFICER, region=w.sz, is_staff=True),
    }
    if who in users:
        user = users[who]()
    else:
        user = getattr(w, who)
        user.is_staff = True
        user.save()
    login(user)
    sentinels = SENTINELS + ["TH-XCH-0001", "欧阳交换", "county_handler", "天河审批系统"]
    for model, ma in djadmin.site._registry.items():
        label = f"{model._meta.app_label}/{model._meta.model_name}"
        urls_ = [f"/admin/{label}/"]
        obj = None
        for attr in ("organ", "region"):
            if hasattr(model, attr) or any(f.name == attr for f in model._meta.fields):
                pass
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            urls_.append(f"/admin/{label}/{first.pk}/change/")
        if model._meta.model_name == "user":
            urls_.append(f"/admin/{label}/{w.county_handler.pk}/change/")
        if model._meta.model_name == "organ":
            urls_.append(f"/admin/{label}/{w.tianhe_bureau.pk}/change/")
            urls_.append(f"/admin/{label}/add/")
        for u in urls_:
            r2 = client.get(u)
            text = body_text(r2) if r2.status_code == 200 else ""
            found = [s for s in sentinels if s in text]
            print(f"ADMIN {who:16} {r2.status_code} {u} {found if found else ''}")
    r3 = client.get("/admin/")
    print("ADMIN index", who, r3.status_code, [s for s in sentinels if s in r3.content.decode()])


def test_probe_dup(land, desk, client, login):
    w = land
    b, _s = desk.file(title="福田投诉", content="福田的内容", region=w.futian, named_organ="福田局")
    comp.do_accept(b)
    b = comp.do_route(b, organ=w.futian_bureau)
    b.refresh_from_db()
    print("DUP", b.possible_duplicate_id, w.complaint.pk, w.complaint.number)
    login(w.shenzhen_handler)
    for u in ["/complaints/", "/complaints/?export=xlsx", f"/complaints/{b.pk}/", "/api/v1/complaints/", f"/api/v1/complaints/{b.pk}/"]:
        r = client.get(u)
        print("DUPCHK", r.status_code, u, w.complaint.number in body_text(r))


def test_probe_misc(land, client, login):
    w = land
    login(w.admin)
    r = client.get("/clocks/?export=xlsx")
    print("MISC admin clocks complaint no:", w.complaint.number in body_text(r), r.status_code)
    r = client.get("/clocks/")
    print("MISC admin clocks page complaint no:", w.complaint.number in body_text(r))
    from xiaoneng.supervision import stats
    stats.refresh(full=True, now=at("2026-11-20T09:00"))
    login(w.city_supervisor)
    r = client.get("/dashboard/?from=2026-09&to=2026-11")
    print("MISC city totals", r.context["totals"].received if "totals" in r.context else None, r.context.get("live"))
