"""Property-based test of the API against its own OpenAPI schema (schemathesis + hypothesis).

Schemathesis generates requests from ``/openapi.json`` — valid ones and, in negative mode, ones that
break the schema — and checks every answer: never a 5xx, only documented status codes, JSON bodies that
match the documented response schema, and schema-violating requests rejected with a 4xx.
"""

from __future__ import annotations

import pytest
import schemathesis
import serving_helpers
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from recgen.serving import ServeSettings, create_app

# shared fixtures (assigned, not imported, so pytest finds them and ruff sees no shadowed import)
data_blocks = serving_helpers.data_blocks
ease = serving_helpers.ease


CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection]


#: (method, path, has inputs): negative mode needs something to break
OPERATIONS = [("GET", "/health", False), ("GET", "/model", False), ("POST", "/recommend", True),
              ("POST", "/recommend/batch", True), ("GET", "/items/{item_id}/similar", True)]


@pytest.fixture(scope="module")
def api_schema(ease):
    app = create_app(ease, name="ease", settings=ServeSettings(unknown_items="ignore", admin=False))
    return schemathesis.openapi.from_asgi("/openapi.json", app)


@pytest.mark.parametrize("method, path, has_inputs", OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS])
def test_api_conforms_to_its_openapi_schema(api_schema, method, path, has_inputs):
    op = api_schema[path][method]
    modes = [GenerationMode.POSITIVE] + ([GenerationMode.NEGATIVE] if has_inputs else [])
    strategy = st.one_of([op.as_strategy(generation_mode=m) for m in modes])
    calls: list[int] = []

    @settings(max_examples=30 if has_inputs else 3, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=strategy)
    def check(case):
        response = case.call_and_validate(checks=CHECKS)
        calls.append(response.status_code)

    check()
    assert calls and all(c < 500 for c in calls)
