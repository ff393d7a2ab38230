"""Schemathesis against the project's own OpenAPI schema, in-process through the WSGI application.

Every operation of /api/v1/schema/ is called with requests generated from the schema (valid ones,
and ones the schema says are invalid), as an anonymous client and as a signed-in supervisor who
also holds an exchange source's key. Each answer must not be a server error and must conform to the
schema: a documented status code, the documented content type and body, and a 4xx for a request the
schema forbids. The run is bounded and derandomized (a fixed number of examples per operation,
Hypothesis's derandomize), so CI time stays small and a failure reproduces. It is marked `fuzz`.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import negative_data_rejection

from xiaoneng.appraisal import actions as appraisal
from xiaoneng.approvals.exchange import keys
from xiaoneng.orgs.models import Grant, Role

pytestmark = [pytest.mark.fuzz]

# Examples per operation and mode: 20 operations × 2 personas; about 45 s in all on the CI machine.
EXAMPLES = 25


@pytest.fixture
def api_schema(wsgi_application, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]  # schemathesis' WSGI client's host
    return schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_application, config=CONFIG)


# The examples phase (the schema's own examples) and the fuzzing phase (EXAMPLES each, valid and
# invalid); the coverage phase (every boundary of every parameter) is left out for time.
CONFIG = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False}}})
schema = schemathesis.pytest.from_fixture("api_schema")
EXCHANGE = "/api/v1/exchange/events"


def excluded(case) -> list:
    """The exchange answers a well-formed batch 200 with a result per event, a rejected one among them
    (schema.py; README, exchange): an event the schema calls invalid is not a request to refuse."""
    return [negative_data_rejection] if case.operation.path == EXCHANGE else []


@pytest.fixture
def signed_in(world, matters, client):
    """A supervisor's session (also the province's appraisal office, with a computed appraisal period, so the
    appraisal endpoints answer with rows) and an exchange source's key, as request headers."""
    appraisal_period(world)
    Grant.objects.create(user=world.province_supervisor, role=Role.APPRAISAL_OFFICER, region=world.gd)
    client.force_login(world.province_supervisor, backend="django.contrib.auth.backends.ModelBackend")
    _source, key = keys.do_create_source(code="fuzz", organ_codes=[world.tianhe_bureau.credit_code], name="模糊测试")
    return {"Cookie": f"sessionid={client.cookies['sessionid'].value}", "Authorization": f"Bearer {key}"}


def appraisal_period(world):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from tests.appraisal.conftest import TREE

    cls = appraisal.do_create_class(name="区县市场监管局", region=world.gz,
                                    organs=[world.tianhe_bureau, world.yuexiu_bureau])
    scheme = appraisal.do_create_scheme(organ_class=cls, year=2026, title="2026年方案", rows=[dict(r) for r in TREE])
    period = appraisal.do_activate_scheme(scheme)
    when = datetime(2027, 1, 5, 9, tzinfo=ZoneInfo("Asia/Shanghai"))
    appraisal.do_close_period(period, at=when)
    appraisal.do_compute_period(period, at=when)


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_a_signed_in_client_without_a_server_error_and_as_documented(case, signed_in):
    case.call_and_validate(headers=signed_in, excluded_checks=excluded(case))


@schema.parametrize()
@settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
def test_the_api_answers_an_anonymous_client_without_a_server_error_and_as_documented(case, world):
    case.call_and_validate(excluded_checks=excluded(case))
