"""好差评: one rating per case. The first stands; a second one, by anyone, is refused with a clear
message, and the database holds the rule even when two submits race."""
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from xiaoneng.approvals import actions as cases
from xiaoneng.complaints import ratings as r
from xiaoneng.complaints.identity import Identity
from xiaoneng.complaints.models import Rating

CN = ZoneInfo("Asia/Shanghai")
MON = datetime(2026, 11, 2, 9, 0, tzinfo=CN)
CODE = "482913"
GOOD = {"overall": 5, "efficiency": 5, "guide": 5, "convenience": 5, "usability": 5}


def decided_case(matters, no="TH-2026-0200"):
    case, _code = cases.do_submit_case(matter=matters.paid, case_no=no, applicant_name="李四海",
                                       applicant_phone="13900001111", received_at=MON - timedelta(days=20),
                                       verify_code=CODE)
    cases.do_accept_case(case, at=MON - timedelta(days=19))
    return cases.do_decide_case(case, outcome="granted", at=MON - timedelta(days=1))


def public_rate(client, level, phone, name="王五", address="10.1.1.1"):
    data = {"kind": "online", "case_no": "TH-2026-0200", "code": CODE, "level": str(level),
            "score_efficiency": str(level), "score_guide": str(level), "score_convenience": str(level),
            "score_usability": str(level), "comment": "评价", "name": name, "phone": phone}
    return client.post(reverse("ratings:public-case"), data, REMOTE_ADDR=address)


def test_a_second_rating_of_a_case_on_the_public_page_is_refused_whoever_sends_it_and_the_first_stands(
        client, world, matters):
    decided_case(matters)
    first = public_rate(client, 1, "13700002222")  # the applicant's bad review
    assert first.status_code == 302
    for phone, name in (("13800003333", "赵六"), ("", "")):  # another phone, then anonymous: same case and code
        again = public_rate(client, 5, phone, name=name, address="10.9.9.9")
        page = again.content.decode()
        assert again.status_code == 200 and "每个办件只能评价一次" in page and "以首次评价为准" in page
    rating = Rating.objects.get()
    assert rating.level == 1 and rating.named and rating.phone_masked == "137****2222"


def test_the_action_refuses_an_anonymous_second_rating_of_a_case_on_its_field(world, matters):
    case = decided_case(matters)
    r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=GOOD, case=case,
                      rater=Identity.of(name="李四海", phone="13900001111"), rated_at=MON)
    with pytest.raises(r.RatingError, match="只能评价一次") as err:
        r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=GOOD, case=case, rated_at=MON)
    assert err.value.field == "case" and Rating.objects.count() == 1


def test_the_database_refuses_a_second_rating_of_the_same_case(world, matters):
    case = decided_case(matters)
    first = r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=GOOD, case=case, rated_at=MON)
    with pytest.raises(IntegrityError), transaction.atomic():
        Rating.objects.create(kind="online", case=case, organ=world.tianhe_bureau, region_code=first.region_code,
                              level=5, scores=GOOD, rated_at=MON)
    # window ratings have no case: any number of them
    for _i in range(2):
        r.do_rate_service(kind="offline", organ=world.tianhe_bureau, window="3号窗口", rated_at=MON,
                          scores={"overall": 4, "efficiency": 4, "competence": 4, "attitude": 4})
    assert Rating.objects.filter(case__isnull=True).count() == 2


@pytest.mark.django_db(transaction=True)
def test_two_submits_of_the_same_case_at_once_store_one_rating(world, matters):
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL; SQLite has a single writer")
    case = decided_case(matters)
    barrier, stored, refused, errors = threading.Barrier(2), [], [], []

    def submit(phone):
        try:
            barrier.wait()
            stored.append(r.do_rate_service(kind="online", organ=world.tianhe_bureau, scores=GOOD, case=case,
                                            rater=Identity.of(phone=phone), rated_at=MON))
        except r.RatingError as exc:
            refused.append(exc)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(phone,)) for phone in ("13700002222", "13800003333")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(stored) == 1 and len(refused) == 1
    assert refused[0].field == "case" and Rating.objects.filter(case=case).count() == 1
