"""schemathesis against /api/schema/ as an authenticated user: no 5xx, no answer that violates the schema.

The operations are driven with Hypothesis directly (schemathesis' own pytest plugin does not run under pytest 9).
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("today_2026")]

SCHEMA = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# CI runs a fixed set of examples (the same on every run, so a landing never depends on luck); `make fuzz`
# sets FUZZ_RANDOM=1 and explores new inputs each time.
RANDOM = os.environ.get("FUZZ_RANDOM") == "1"
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))


@pytest.fixture(autouse=True)
def keep_the_test_connection():  # type: ignore[no-untyped-def]
    """As Django's test client does: a request must not close the connection the test's transaction uses."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(db) -> str:  # type: ignore[no-untyped-def]
    from tests.conftest import api_token, make_user

    # Every role and the 市教育局 scope, so write operations get past the permission checks.
    user = make_user("fuzzer", "填报员", "审核员", "领导", units=("市教育局",))
    return api_token(user)


def test_every_operation_is_covered() -> None:
    assert len(OPERATIONS) >= 30


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_the_api_never_fails_and_keeps_to_its_schema(operation, mode, token, figure) -> None:  # type: ignore[no-untyped-def]
    sent = 0

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES,
        derandomize=not RANDOM,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    def run(case) -> None:  # type: ignore[no-untyped-def]
        nonlocal sent
        response = case.call(headers={"Authorization": f"Token {token}"})
        sent += 1
        case.validate_response(response, checks=CHECKS)

    run()
    figure("API 模糊测试（schemathesis）", operations=1, requests=sent, server_errors=0, schema_violations=0)
