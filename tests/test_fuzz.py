"""Property-based fuzzing of the whole HTTP API from its OpenAPI schema (schemathesis).

Whatever the generated input, valid or not, the app must answer without a 5xx.

Two things forced by the pinned versions: `schemathesis.pytest.from_fixture` fails under pytest 9
(it sets `request.node._nodeid`, which pytest 9 removed), so the schema is built at import; and
it comes from `app.openapi()` rather than `from_asgi`, which would start the app's lifespan
during collection. Each test then runs the app in-process (`app=`): schemathesis starts the
lifespan on first use and stops it at teardown, and `:memory:` gives every run a fresh database.
"""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from app.main import create_app
from app.settings import Settings
from tests.conftest import USER1

app = create_app(Settings(db_path=":memory:"))
schema = schemathesis.openapi.from_dict(app.openapi())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_no_input_makes_the_app_fail(case: schemathesis.Case) -> None:
    case.call_and_validate(app=app, headers=USER1, checks=[not_a_server_error])
