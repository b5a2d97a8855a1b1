"""Schemathesis against the app's own OpenAPI schema: no 5xx, and every answer (errors
included) has a documented status, content type and shape."""

import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
SETTINGS = {"deadline": None, "derandomize": True, "database": None,
            "phases": [Phase.explicit, Phase.generate],
            "suppress_health_check": list(HealthCheck)}


def test_schema_every_answer_matches_the_schema(make_app, key, tmp_path) -> None:
    # an admin key: every route answers it (a submit key's 403s are tested elsewhere)
    schema = schemathesis.openapi.from_asgi("/openapi.json",
                                            make_app(api_keys=f"admin:{key}",
                                                     feedback_db=str(tmp_path / "f.db")))
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.label for op in operations} >= {"POST /v1/score", "POST /v1/moderations",
                                                "POST /v1alpha1/comments:analyze",
                                                "POST /v1/feedback"}
    statuses: dict[str, set[int]] = {}

    def call(case) -> None:
        response = case.call_and_validate(headers={"Authorization": f"Bearer {key}"},
                                          checks=CHECKS)
        statuses.setdefault(case.operation.label, set()).add(response.status_code)

    for operation in operations:
        # generated requests, then the schema's own examples (which must be answered too:
        # whether 30 generated requests happen to be valid depends on the draw)
        strategies = [operation.as_strategy()]
        if examples := operation.get_strategies_from_examples():
            strategies.append(st.one_of(*examples))
        for strategy, n in zip(strategies, (30, 5), strict=False):

            @given(case=strategy)
            @settings(max_examples=n, **SETTINGS)
            def check(case) -> None:
                call(case)

            check()
    # the requests reached the model and the store, not only the error answers (a random
    # feedback id never exists: those routes answer 404, checked against the schema above)
    assert all(any(200 <= s < 300 for s in statuses[label]) for label in statuses
               if "{item_id}" not in label), statuses
