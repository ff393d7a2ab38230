"""Two submissions racing with the same invitation code, or the same verified phone, store one response
(PostgreSQL: SQLite has a single writer, so there is no race to lose)."""
import threading

import pytest
from django.db import connection

from xiaoneng.surveys import actions
from xiaoneng.surveys.models import Ballot, Invitation, Response


def _race(submit, n=4):
    barrier, stored, refused, errors = threading.Barrier(n), [], [], []

    def run(i):
        try:
            barrier.wait()
            stored.append(submit(i))
        except actions.SurveyError as exc:
            refused.append(exc)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return stored, refused, errors


@pytest.mark.django_db(transaction=True)
def test_racing_submissions_with_one_code_store_one_response(poll):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite has a single writer")
    poll.open()
    code = actions.do_generate_invitations(poll.survey, group=poll.company, count=1)[0]
    key = (poll.w.tianhe_bureau.pk, poll.overall.pk)

    def submit(i):
        return actions.do_submit_response(poll.survey, answers={key: 1 + i % 5},
                                          invitation=Invitation.objects.get(pk=code.pk))

    stored, refused, errors = _race(submit)
    assert errors == [] and len(stored) == 1 and len(refused) == 3
    assert {e.field for e in refused} == {"code"}
    assert Response.objects.count() == 1 and Ballot.objects.filter(key=f"i:{code.pk}").count() == 1


@pytest.mark.django_db(transaction=True)
def test_racing_submissions_with_one_phone_store_one_response(poll):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite has a single writer")
    poll.open()
    key = (poll.w.tianhe_bureau.pk, poll.overall.pk)

    def submit(i):
        return actions.do_submit_response(poll.survey, answers={key: 5}, phone_digest="same-phone", group=poll.public)

    stored, refused, errors = _race(submit)
    assert errors == [] and len(stored) == 1 and len(refused) == 3
    assert {e.field for e in refused} == {"phone"}
    assert Response.objects.count() == 1
