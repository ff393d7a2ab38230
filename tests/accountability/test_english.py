"""The accountability pages in English at every stage a case goes through: nothing in Chinese but
the data people typed and the names of places, organs and persons."""
import re

import pytest
from django.urls import reverse
from django.utils import translation

from tests.accountability.conftest import at
from xiaoneng.accountability import actions
from xiaoneng.accountability.models import Case, Proposal, Responsibility
from xiaoneng.orgs.models import Organ, Region, Staff

pytestmark = pytest.mark.django_db

TYPED = ["暗访发现窗口推诿", "暗访视频显示窗口人员推诿群众", "暗访视频截图", "2026-02-27 窗口 3 号", "经查属实",
         "本人对事实无异议", "天效问〔2026〕1号", "天效问〔2026〕2号", "王局长", "量纪过重", "事实不清", "补发 3 月绩效",
         "天河区市场监督管理局内部", "天河区监察委员会", "案情复杂", "区委书记", "简体中文", "效"]


def chinese_left(client, url):
    html = client.get(url).content.decode()
    # The officers act in Chinese: what the actions write must not depend on the last page read.
    translation.activate("zh-hans")
    html = re.sub(r"<script.*?</script>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", html)
    data = {*Region.objects.values_list("name", flat=True), *Organ.objects.values_list("name", flat=True),
            *Staff.objects.values_list("name", flat=True), *Staff.objects.values_list("rank", flat=True), *TYPED}
    for name in sorted(data, key=len, reverse=True):
        text = text.replace(name, " ")
    return re.findall(r"[\u4e00-\u9fff]+", text)


def test_every_stage_of_a_case_reads_in_english(acct, login):
    client = login(acct.world.county_supervisor)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    translation.activate("zh-hans")
    seen = {}

    def look(case, stage):
        seen[stage] = chinese_left(client, reverse("accountability:case", args=[case.pk]))

    # notified, heard and reviewed: the forms of each step and the timeline so far.
    case = acct.register("2026-03-02T10:00")
    actions.do_extend_decision(case, reason="案情复杂", approver_name="区委书记", at=at("2026-03-03T10:00"))
    zhang = actions.do_add_party(case, staff=acct.zhang, responsibility=Responsibility.DIRECT)
    look(case, "registered")
    actions.do_record_findings(case, findings="经查属实", at=at("2026-03-04T10:00"))
    look(case, "investigated")
    actions.do_notify_party(zhang, measure="reassign", at=at("2026-03-04T10:00"))
    look(case, "notified")
    actions.do_record_statement(zhang, statement="本人对事实无异议", at=at("2026-03-05T10:00"))
    look(case, "heard")
    actions.do_review_tolerance(zhang, situations=[], outcome="none", at=at("2026-03-05T10:00"))
    look(case, "reviewed")
    case = Case.objects.get(pk=case.pk)
    actions.do_decide_case(case, decider="王局长", decision_number="天效问〔2026〕1号",
                           measures={zhang.pk: (["reassign"], None)}, at=at("2026-03-06T10:00"))
    look(case, "decided")
    actions.do_serve_case(case, at=at("2026-03-07T10:00"))
    actions.do_announce_case(case, scope="天河区市场监督管理局内部", at=at("2026-03-08T10:00"))
    zhang.refresh_from_db()
    review = actions.do_lodge_appeal(zhang, kind="review", grounds="量纪过重", received_at=at("2026-03-10T10:00"))
    look(case, "appealed")
    actions.do_decide_appeal(review, outcome="revoked", reasons="事实不清", pay_to_restore="补发 3 月绩效",
                             at=at("2026-03-20T10:00"))
    actions.do_file_case(case, filed_with="天河区监察委员会", at=at("2026-03-21T10:00"))
    look(case, "revoked and filed")
    # A second case whose appeal changed the measure, so the timeline holds every outcome.
    other, (li,) = acct.decided("2026-03-02T10:00", measure="demerit", number="天效问〔2026〕2号", people=[acct.li])
    actions.do_serve_case(other, at=at("2026-03-03T10:00"))
    li.refresh_from_db()
    appeal = actions.do_lodge_appeal(li, kind="appeal", grounds="量纪过重", received_at=at("2026-03-10T10:00"))
    look(other, "appeal pending")  # the forms to decide it and to extend it for a complex case
    actions.do_decide_appeal(appeal, outcome="changed", new_measure="warning", reasons="事实不清",
                             at=at("2026-03-20T10:00"))
    look(other, "changed")
    for name, url in (("stats", reverse("accountability:stats")), ("cases", reverse("accountability:cases")),
                      ("proposals", reverse("accountability:proposals")),
                      ("proposal", reverse("accountability:proposal", args=[Proposal.objects.first().pk]))):
        seen[name] = chinese_left(client, url)
    assert {stage: words for stage, words in seen.items() if words} == {}
