"""Invitation codes: generated per group in batches, downloaded as Excel with a QR code each, and read back
from whatever a person types (fuzzed)."""
import io

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from xiaoneng.audit.models import AuditEntry
from xiaoneng.surveys import actions, codes
from xiaoneng.surveys.actions import SurveyError
from xiaoneng.surveys.models import Invitation


def test_codes_are_generated_per_group_in_numbered_batches_all_distinct_and_audited_without_the_codes(poll):
    first = actions.do_generate_invitations(poll.survey, group=poll.company, count=40)
    second = actions.do_generate_invitations(poll.survey, group=poll.public, count=5)
    assert len(first) == 40 and len(second) == 5
    assert {i.batch for i in first} == {1} and {i.batch for i in second} == {2}
    all_codes = list(Invitation.objects.values_list("code", flat=True))
    assert len(set(all_codes)) == 45
    assert all(len(c) == 8 and set(c) <= set(codes.ALPHABET) for c in all_codes)
    entry = AuditEntry.objects.filter(action="survey.invitations").order_by("pk").first()
    assert entry.changes == {"group": "企业", "count": 40, "batch": 1}
    assert not any(c in str(entry.changes) for c in all_codes)


def test_a_batch_outside_the_limit_or_for_a_closed_survey_is_refused(poll):
    with pytest.raises(SurveyError, match="每批生成数量应在 1 至 2000 之间"):
        actions.do_generate_invitations(poll.survey, group=poll.company, count=0)
    with pytest.raises(SurveyError, match="每批生成数量应在 1 至 2000 之间"):
        actions.do_generate_invitations(poll.survey, group=poll.company, count=2001)
    poll.open()
    actions.do_close_survey(poll.survey)
    with pytest.raises(SurveyError, match="评议已结束"):
        actions.do_generate_invitations(poll.survey, group=poll.company, count=1)
    assert not Invitation.objects.exists()


def test_the_excel_of_a_batch_holds_each_code_its_personal_link_and_a_qr_image(poll, login):
    made = actions.do_generate_invitations(poll.survey, group=poll.company, count=3)
    actions.do_generate_invitations(poll.survey, group=poll.public, count=2)
    response = login(poll.w.appraisal_officer).get(f"/surveys/{poll.survey.pk}/codes/?batch=1")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.content)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert sorted(r[2] for r in rows) == sorted(codes.shown(i.code) for i in made)
    assert all(r[1] == "企业" and r[3].endswith(f"/public/surveys/{poll.survey.slug}/?code={r[2]}") for r in rows)
    assert len(ws._images) == 3


def test_a_code_is_read_back_from_what_people_type():
    assert codes.normalise("k7px-3mrq") == "K7PX3MRQ"
    assert codes.normalise(" K7PX 3MRQ ") == "K7PX3MRQ"
    assert codes.normalise("ｋ７ｐｘ－３ｍｒｑ") == "K7PX3MRQ"  # full-width, from a Chinese input method
    assert codes.normalise("K7PX—3MRQ") == "K7PX3MRQ"
    assert codes.normalise("K7PX3MR0") == ""  # 0 is not in the alphabet
    assert codes.normalise("K7PX3MR") == ""
    assert codes.normalise(None) == ""


@given(st.text(max_size=80))
def test_normalising_any_text_gives_a_valid_code_or_nothing_and_is_idempotent(text):
    out = codes.normalise(text)
    assert out == "" or (len(out) == codes.LENGTH and set(out) <= set(codes.ALPHABET))
    assert codes.normalise(out) == out


@given(st.text(alphabet=codes.ALPHABET, min_size=8, max_size=8),
       st.sampled_from(["", " ", "-", "－", " - ", "\u3000"]), st.booleans(), st.booleans())
def test_every_way_of_writing_a_code_reads_back_to_it(code, sep, lower, wide):
    typed = code[:4] + sep + code[4:]
    typed = typed.lower() if lower else typed
    if wide:
        typed = "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in typed)
    assert codes.normalise(typed) == code
