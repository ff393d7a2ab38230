"""Filing with the level above where a measure's rule says so: each filing has its own clock, the case
is filed only once every filing it needs is recorded, and each organ gets its own 备案报告."""
import io

import pypdf
import pytest
from django.urls import reverse
from django.utils import timezone

from tests.accountability.conftest import at
from xiaoneng.accountability import actions, stats
from xiaoneng.accountability import measures as M
from xiaoneng.accountability.actions import AccountabilityError
from xiaoneng.accountability.models import Case, Filing, FilingLevel, Status
from xiaoneng.accountability.views import visible
from xiaoneng.documents.actions import DocumentError, do_issue_document

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text_of(document) -> str:
    with document.file.open("rb") as handle:
        reader = pypdf.PdfReader(io.BytesIO(handle.read()))
    return "".join(page.extract_text() for page in reader.pages).replace("\n", "").replace(" ", "")


def served(acct, measure, people=None, when="2026-03-02T10:00", number="天效问〔2026〕1号"):
    case, parties = acct.heard(when, people=people, measure=measure)
    actions.do_decide_case(case, decider="王局长", decision_number=number,
                           measures={p.pk: ([measure], None) for p in parties}, at=at(when))
    actions.do_serve_case(case, at=at("2026-03-03T10:00"))
    case.refresh_from_db()
    return case


def test_a_warning_needs_only_the_same_level_filing(acct):
    case = served(acct, "warning")
    (filing,) = case.filings.all()
    assert filing.level == FilingLevel.SAME and filing.clock_id == case.filing_clock_id
    actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-05T10:00"))
    case.refresh_from_db()
    assert case.status == Status.FILED
    with pytest.raises(AccountabilityError) as exc:
        actions.do_file_case(case, filed_with="广州市监察委员会", level=FilingLevel.ABOVE)
    assert exc.value.field == "status"


def test_a_removal_is_filed_with_both_levels_each_on_its_own_clock_before_the_case_is_filed(acct):
    case = served(acct, "removal")
    same, above = case.filings.order_by("pk")
    assert (same.level, above.level) == (FilingLevel.SAME, FilingLevel.ABOVE)
    assert same.clock_id and above.clock_id and same.clock_id != above.clock_id
    assert above.clock.kind == "accountability.filing" and above.clock.due_at == same.clock.due_at
    assert above.reasons == "张三（一级科员）：撤职"
    actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-05T10:00"))
    case.refresh_from_db()
    assert case.status == Status.SERVED and not case.filed_at
    with pytest.raises(AccountabilityError) as exc:  # the same filing twice
        actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-05T11:00"))
    assert exc.value.field == "level"
    actions.do_file_case(case, filed_with="广州市监察委员会", level=FilingLevel.ABOVE, at=at("2026-03-06T10:00"))
    case.refresh_from_db()
    assert case.status == Status.FILED and case.filed_at == at("2026-03-06T10:00")
    assert case.filed_with == "天河区监察委员会；广州市监察委员会"
    above.clock.refresh_from_db()
    assert above.clock.stopped_at == at("2026-03-06T10:00")


def test_an_organisational_measure_goes_above_only_for_a_leading_cadre(acct):
    leader_case = served(acct, "dismiss_post", people=[acct.li], number="天效问〔2026〕1号")
    clerk_case = served(acct, "dismiss_post", people=[acct.zhang], number="天效问〔2026〕2号")
    assert sorted(leader_case.filings.values_list("level", flat=True)) == ["above", "same"]
    assert list(clerk_case.filings.values_list("level", flat=True)) == ["same"]
    # A grade with 主任 in it (一级主任科员) is not a leading post; a 科长 is.
    assert not M.is_leading_cadre("一级主任科员", "direct")
    assert M.is_leading_cadre("科长", "direct") and M.is_leading_cadre("", "main_leader")


def test_the_rule_is_configuration_per_measure(acct, settings):
    settings.XIAONENG_RULES = {"accountability_filing_above": {"warning": "all"}}
    warned = served(acct, "warning", number="天效问〔2026〕1号")
    removed = served(acct, "removal", number="天效问〔2026〕2号")
    assert warned.filings.count() == 2 and removed.filings.count() == 1


def test_a_late_filing_with_the_level_above_is_flagged_on_its_clock_and_in_the_statistics(acct):
    case = served(acct, "expulsion")
    same, above = case.filings.order_by("pk")
    actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-05T10:00"))
    late = above.clock.due_at + timezone.timedelta(days=3)
    actions.do_file_case(case, filed_with="广州市监察委员会", level=FilingLevel.ABOVE, at=late)
    same.refresh_from_db(), above.refresh_from_db()
    assert not same.is_late(late) and above.is_late(late)
    h = stats.compute(visible(Case.objects.all(), acct.world.county_supervisor), timezone.now()).health
    assert (h.filings_late, h.filings_due, h.decided, h.cases) == (1, 2, 1, 1)


def test_each_organ_filed_with_gets_its_own_filing_report(acct):
    case = served(acct, "removal")
    same_doc = do_issue_document("acct.filing", case, at=at("2026-03-04T10:00"))
    above_doc = do_issue_document("acct.filing", case, at=at("2026-03-04T10:05"))
    with pytest.raises(DocumentError):  # both issued
        do_issue_document("acct.filing", case)
    assert (same_doc.addressee, above_doc.addressee) == ("天河区监察委员会", "广州市监察委员会")
    assert same_doc.subject_key == f"accountability:{case.pk}"
    above_text = text_of(above_doc)
    for expected in ("问责决定备案报告", "广州市监察委员会：", "张三（一级科员）：撤职", "报上一级机关备案", "上一级机关"):
        assert expected in above_text, expected
    assert "报上一级机关备案" not in text_of(same_doc)


def test_the_case_page_records_each_filing_through_its_form(acct, login):
    case = served(acct, "removal")
    client = login(acct.world.county_supervisor)
    html = client.get(reverse("accountability:case", args=[case.pk])).content.decode()
    assert 'data-testid="filing-above"' in html and "上一级机关备案期限" in html
    url = reverse("accountability:case-act", args=[case.pk, "file"])
    rev = str(case.steps.count())
    response = client.post(url, {"rev": rev, "level": "above", "filed_with": "广州市监察委员会"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == Status.SERVED
    steps = case.steps.count()
    response = client.post(url, {"rev": str(steps), "level": "above", "filed_with": "别的机关"})
    assert response.status_code == 200 and case.steps.count() == steps  # no longer a choice: refused
    assert Filing.objects.get(case=case, level="above").filed_with == "广州市监察委员会"
    response = client.post(url, {"rev": str(case.steps.count()), "level": "same", "filed_with": "天河区监察委员会"})
    case.refresh_from_db()
    assert response.status_code == 302 and case.status == Status.FILED
    assert Filing.objects.filter(case=case, filed_at__isnull=True).count() == 0


def test_the_api_lists_each_filing_with_its_own_due_time(acct, login):
    case = served(acct, "removal")
    actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-05T10:00"))
    detail = login(acct.world.county_supervisor).get(f"/api/v1/accountability/cases/{case.pk}/").json()
    assert [(f["level"], f["filed_with"], bool(f["due_at"])) for f in detail["filings"]] == [
        ("same", "天河区监察委员会", True), ("above", "", True)]
    assert detail["status"] == "served" and detail["announcement_public"] is False


def test_decisions_made_before_filings_had_rows_get_their_same_level_filing_from_the_case(acct):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("xiaoneng.accountability.migrations.0003_filing_levels_and_public_announcement")
    filed = served(acct, "warning", number="天效问〔2026〕1号")
    actions.do_file_case(filed, filed_with="天河区监察委员会", at=at("2026-03-05T10:00"))
    unfiled, _ = acct.decided("2026-03-02T10:00", number="天效问〔2026〕2号")
    undecided = acct.register()
    Filing.objects.all().delete()  # as the table stood before the migration
    migration.same_level_filings(apps, None)
    filed.refresh_from_db()
    (a,) = Filing.objects.filter(case=filed)
    (b,) = Filing.objects.filter(case=unfiled)
    assert (a.level, a.clock_id, a.filed_with, a.filed_at) == ("same", filed.filing_clock_id, "天河区监察委员会",
                                                               at("2026-03-05T10:00"))
    assert (b.clock_id, b.filed_at) == (unfiled.filing_clock_id, None)
    assert not Filing.objects.filter(case=undecided).exists()
