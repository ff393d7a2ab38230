import traceback
from datetime import datetime, timedelta
from html.parser import HTMLParser
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from xiaoneng.approvals import actions as cases
from xiaoneng.approvals.catalogue import Rules, do_create_matter
from xiaoneng.clocks import monitor
from xiaoneng.complaints import actions as cact
from xiaoneng.complaints import ratings as r
from xiaoneng.complaints.identity import Identity
from xiaoneng.supervision.models import Alert, SupervisionOrder

SH = ZoneInfo("Asia/Shanghai")


def at(text):
    return datetime.fromisoformat(text).replace(tzinfo=SH)


class Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms, self.cur, self.select = [], None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.cur = {"method": (a.get("method") or "get").lower(), "action": a.get("action") or "", "fields": {}}
            self.forms.append(self.cur)
        elif self.cur is not None and tag in ("input", "textarea", "select") and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and a["name"] in self.cur["fields"]:
                return
            self.cur["fields"][a["name"]] = a.get("value") or ""
            if tag == "select":
                self.select = a["name"]
        elif tag == "option" and self.select and self.cur is not None:
            if not self.cur["fields"].get(self.select) and a.get("value"):
                self.cur["fields"][self.select] = a["value"]

    def handle_endtag(self, tag):
        if tag == "form":
            self.cur = None
        if tag == "select":
            self.select = None


UGLY = ["", "abc", "-1", "0", "99999999999999999999", "1e400", "NaN", "Infinity", "\x00", "a\x00b", "x" * 20000,
        "2026-13-45", "2026-02-30T25:00", "0001-01-01", "9999-12-31", "１２", "<script>", ["1", "2"]]


def fuzz(client, page, out, skip=("csrfmiddlewaretoken",)):
    resp = client.get(page)
    if resp.status_code != 200:
        out.append(f"GET {page} -> {resp.status_code}")
        return
    p = Forms()
    p.feed(resp.content.decode())
    out.append(f"INFO {page} forms={[(f['action'], list(f['fields'])) for f in p.forms if f['method']=='post']}")
    for form in p.forms:
        if form["method"] != "post":
            continue
        url = form["action"] or page
        if "logout" in url or "setlang" in url:
            continue
        for name in form["fields"]:
            if name in skip:
                continue
            for v in UGLY:
                # refresh rev each time
                fresh = Forms()
                fresh.feed(client.get(page).content.decode())
                base = next((f["fields"] for f in fresh.forms if (f["action"] or page) == url), form["fields"])
                data = {**base, name: v}
                try:
                    rr = client.post(url, data)
                    if rr.status_code >= 500:
                        out.append(f"POST {url} {name}={str(v)[:30]!r} -> {rr.status_code}")
                except Exception as e:
                    tb = traceback.format_exception(e)
                    out.append(f"POST {url} {name}={str(v)[:30]!r} -> EXC {tb[-1].strip()[:200]}")


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_probe_case(world, client, matters):
    out = []
    c1, _ = cases.do_submit_case(matter=matters.licence, case_no="TH-1", applicant_name="张三", received_at=at("2026-09-28T10:00"))
    c2, _ = cases.do_submit_case(matter=matters.licence, case_no="TH-2", applicant_name="张三", received_at=at("2026-09-28T10:00"))
    cases.do_accept_case(c2, at=at("2026-09-28T11:00"))
    c3, _ = cases.do_submit_case(matter=matters.parallel, case_no="GZ-3", applicant_name="张三", received_at=at("2026-09-28T10:00"))
    for user in (world.county_handler, world.admin):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for c in (c1, c2, c3):
            fuzz(client, f"/cases/{c.pk}/", out)
    print("\n".join(out))
    assert not [o for o in out if not o.startswith(('INFO', 'GET'))]


def test_probe_supervision(world, client, matters):
    out = []
    futian = do_create_matter(
        code="440304-SP-001", name="食品经营许可", kind="licence", organ=world.futian_bureau,
        rules=Rules(legal_basis="x", legal_limit=20, promised_limit=10, effective_from=at("2025-01-01T00:00")))
    c, _ = cases.do_submit_case(matter=matters.licence, case_no="TH-S-1", applicant_name="张三", received_at=at("2026-09-28T10:00"))
    cases.do_accept_case(c, at=at("2026-09-28T11:00"))
    monitor.run_pass(at("2026-10-15T09:00"))
    monitor.run_pass(at("2026-10-17T09:00"))
    for user in (world.county_supervisor, world.county_leader, world.county_handler):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for a in Alert.objects.all():
            fuzz(client, f"/supervision/alerts/{a.pk}/", out)
        for o in SupervisionOrder.objects.all():
            fuzz(client, f"/supervision/orders/{o.pk}/", out)
        fuzz(client, "/supervision/orders/new/", out)
    print("\n".join(out))
    assert not [o for o in out if not o.startswith(('INFO', 'GET'))]


def test_probe_complaints(world, client, desk, matters):
    out = []
    c1, _ = desk.file()
    c2, _ = desk.file(title="t2")
    cact.do_accept(c2)
    c3, _ = desk.file(title="t3")
    cact.do_accept(c3)
    cact.do_route(c3, organ=world.tianhe_bureau)
    for user in (world.complaint_officer, world.county_handler, world.county_supervisor):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        for c in (c1, c2, c3):
            fuzz(client, f"/complaints/{c.pk}/", out)
        fuzz(client, "/complaints/intake/", out)
    print("\n".join(out))
    assert not [o for o in out if not o.startswith(('INFO', 'GET'))]


def test_probe_ratings(world, client, matters):
    out = []
    rater = Identity.of(name="李四海", phone="13900001111")
    MON = datetime(2026, 11, 2, 9, 0, tzinfo=SH)
    bad = r.do_rate_service(kind="offline", organ=world.tianhe_bureau, level=1,
                            scores={"overall": 1, "efficiency": 2, "competence": 2, "attitude": 1}, window="3号窗口",
                            rater=rater, rated_at=MON, comment="差")
    for user in (world.county_supervisor, world.county_leader, world.county_handler, world.complaint_officer):
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        fuzz(client, f"/ratings/{bad.pk}/", out)
    print("\n".join(out))
    assert not [o for o in out if not o.startswith(('INFO', 'GET'))]
