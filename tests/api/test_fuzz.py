"""Property-based fuzzing of the whole API from its own OpenAPI document (schemathesis).

A real ``traceapp serve`` on loopback, on a committed database of its own, with a real API
token of a seeded organisation (so the operations behind the token are reached). Every
schemathesis check is on; the run must end with no failure at all: no server error, no status,
content type, header or body the document does not state, no schema-invalid input accepted and
no schema-valid input refused. The budget is bounded and the run derandomised (a fixed seed,
no example database), so CI sees the same cases each time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events, from_schema

from tests.committed import committed_database
from tests.factories import Factory, Member
from tests.live import Server, free_port
from traceapp import create_app

#: Examples per operation and phase; ``TRACEAPP_FUZZ_EXAMPLES`` raises it for a longer local run.
MAX_EXAMPLES = int(os.environ.get("TRACEAPP_FUZZ_EXAMPLES", "10"))
SEED = 20261120
#: The coverage phase (boundary values of every field and parameter, two undocumented methods
#: per path) takes about two minutes on the 2-core machine: on with ``TRACEAPP_FUZZ_COVERAGE=1``.
COVERAGE = os.environ.get("TRACEAPP_FUZZ_COVERAGE") == "1"


@dataclass
class Fuzzed:
    server: Server
    member: Member


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory, jobs_url: str) -> Iterator[Fuzzed]:
    """A live server on a fresh committed database holding a producer (with its token) and one
    of its certificates."""
    folder = tmp_path_factory.mktemp("fuzz")
    with committed_database("fuzz", folder) as url:
        seeder = create_app({"DATABASE_URL": url, "SECRET_KEY": "fuzz-secret", "JOBS_URL": jobs_url})
        session = seeder.extensions["traceapp.db"].sessions()
        make = Factory(session, seeder)
        member = make.member()
        make.certificate(member, quantity=Decimal("100"))
        session.commit()
        session.close()
        seeder.extensions["traceapp.db"].dispose()
        server = Server(free_port(), url, folder / "server.log", "fuzz-secret")
        server.start()
        try:
            yield Fuzzed(server, member)
        finally:
            server.stop()


#: Bodies whose rules go beyond what JSON Schema can say, so that a schema-valid body may still
#: be refused with 422 naming the field: a certificate needs all three commitments, a known
#: administrative division and a lab report for a commissioned test; an event takes the fields of
#: its kind only; a recall names existing trace codes; an upload must be a PDF/image or a logger
#: CSV; a purchase's lots carry what their kind of certificate needs. Every other operation must
#: accept every schema-valid request.
RULES_BEYOND_SCHEMA = [
    "/api/v1/certificates",
    "/api/v1/events",
    "/api/v1/recalls",
    "/api/v1/reports",
    "/api/v1/temperature-logs/parse",
    # A pallet is shipped only by who holds what is on it.
    "/api/v1/pallets/{sscc}/ship",
    # A purchase names codes someone issued and photos its buyer uploaded; a photo is an image.
    "/api/v1/purchases",
    "/api/v1/purchases/photos",
    # A seal must be a PNG or JPEG image that decodes.
    "/api/v1/organisation/seal",
]
#: The same, for other methods: an operator's credit code and identity number carry check
#: characters, an identity number needs the person's name.
RULES_BEYOND_SCHEMA_BY_METHOD = [("PATCH", "/api/v1/organisation")]
ACCEPTED_OR_NAMED = ["2xx", "401", "403", "404", "409", "422", "429"]


def fuzz_config(token: str, base_url: str | None = None, examples: int = MAX_EXAMPLES) -> SchemathesisConfig:
    """Every check on, a bounded and repeatable budget, the seeded organisation's token."""
    generation = {"max-examples": examples, "deterministic": True, "database": "none"}
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "cache": {"enabled": False},
            "generation": generation,
            "phases": {
                # Boundary values of every parameter and body field, and two methods the
                # document does not list (405 with Allow) per path.
                "coverage": {"enabled": COVERAGE, "unexpected-methods": ["put", "delete"]},
                "stateful": {"max-steps": 6, "generation": {**generation, "max-examples": 3}},
            },
            "auth": {"openapi": {"bearerAuth": {"bearer": token}}},
            "request-timeout": 20,
            **({"base-url": base_url} if base_url else {}),
            "operations": [
                {
                    "include-path": path,
                    "include-method": method,
                    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED_OR_NAMED}},
                }
                for method, path in [("POST", p) for p in RULES_BEYOND_SCHEMA] + RULES_BEYOND_SCHEMA_BY_METHOD
            ],
        }
    )


def _sent(interaction: Any) -> str:
    if interaction is None:
        return ""
    request, response = interaction.request, interaction.response
    body = (request.body or b"")[:300]
    answer = (response.content or b"")[:300] if response is not None else b""
    return f"{request.method} {request.uri} {body!r} -> {answer!r}"


def _failures(stream: events.EventStream) -> tuple[list[str], list[str]]:
    """Run the engine; return one line per (operation, check) that failed, and its errors."""
    failed: dict[tuple[str, str], str] = {}
    errors: list[str] = []
    for event in stream:
        if isinstance(event, events.ScenarioFinished):
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    if check.status == Status.FAILURE and check.failure_info is not None:
                        interaction = event.recorder.interactions.get(case_id)
                        sent = _sent(interaction)
                        failure = check.failure_info.failure
                        failed.setdefault(
                            (event.recorder.label, check.name), f"{failure.title}: {failure.message} ({sent})"
                        )
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            errors.append(f"fatal: {event.exception!r}")
    return [f"{label} {name}: {why}" for (label, name), why in sorted(failed.items())], errors


def test_the_document_is_valid_and_fuzzing_the_whole_api_from_it_finds_nothing(fuzzed):
    started = time.monotonic()
    schema = schemathesis.openapi.from_url(
        f"{fuzzed.server.url}/api/v1/openapi.json", config=fuzz_config(fuzzed.member.token)
    )
    assert len(list(schema.get_all_operations())) >= 25
    failures, errors = _failures(from_schema(schema).execute())
    log = fuzzed.server.log_tail(60) if failures or errors else ""
    assert not failures and not errors, "\n".join([*failures, *errors, log])
    assert time.monotonic() - started < 240 or COVERAGE, "the fuzzing budget grew: lower the examples"


def test_the_fuzzer_fails_when_the_server_answers_what_the_document_does_not_say(fuzzed):
    """The harness is honest: with the 401 of an operation left out of the document, the
    answer to a request without a token is reported."""
    schema = schemathesis.openapi.from_url(
        f"{fuzzed.server.url}/api/v1/openapi.json", config=fuzz_config(fuzzed.member.token)
    )
    raw = schema.raw_schema
    raw["paths"]["/api/v1/recalls"]["get"]["responses"].pop("401")
    config = fuzz_config(fuzzed.member.token, base_url=fuzzed.server.url, examples=2)
    broken = schemathesis.openapi.from_dict(raw, config=config).include(path="/api/v1/recalls", method="GET")
    failures, _errors = _failures(from_schema(broken).execute())
    assert any("status_code_conformance" in line or "ignored_auth" in line for line in failures), failures
