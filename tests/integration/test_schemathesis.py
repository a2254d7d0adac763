"""Property-based fuzzing of the whole API from its OpenAPI schema (schemathesis): no server errors, and
every response — success or error — conforms to the documented schema, status codes and content types."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.builders import fleet, node
from tests.integration.api_world import ApiWorld

# positive_data_acceptance expects every schema-valid request to succeed; business rules the schema
# cannot state (a model with no capacity, a project token without a tenant) rightly answer 422/409.
EXCLUDED = [positive_data_acceptance]

WORLD = ApiWorld.build(
    fleet(*(node(f"h{i}") for i in range(8)), *(node(f"g{i}", model="GB200", gpus=4) for i in range(4)))
)
schema = schemathesis.openapi.from_asgi("/openapi.json", WORLD.app)


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_as_a_tenant_admin(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers={"Authorization": f"Bearer {WORLD.tokens['alice']}"}, excluded_checks=EXCLUDED
    )


@schema.parametrize()
@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck))
def test_api_as_the_operator(case: schemathesis.Case) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {WORLD.operator}"}, excluded_checks=EXCLUDED)
