"""How many SQL statements recording one event costs, per kind (counts are deterministic).

An event is read, judged and written in a handful of statements: the token, one read of the
batch (with its hold, the recorder's name and the organisations the body names), the holding
changes, and one INSERT per table. The public-page bump at commit is counted apart: it is the
pages' own (``traceapp/public/pages.py``). The answer is built from the objects just written.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from tests.api.test_events_api import WHEN
from tests.factories import certificate_body
from traceapp.orgs.models import OrgKind

#: kind → most statements before the commit's page bump (the token's look-up included).
CEILINGS = {
    "shipping": 7,  # token, batch, take, give, INSERT events, event_items, holding_changes
    "receiving": 8,  # + the pending shipment (with its quantity)
    "storing": 6,  # token, batch, held, INSERT events, event_items, temperature_readings
    "retail_selling": 6,  # token, batch, take, INSERT events, event_items, holding_changes
    "inspecting": 8,  # token, batch, pending shipment, take, give, three INSERTs
    "portioning": 8,  # token, batch, take, the portions (two statements), three INSERTs
}
#: Kinds that issue certificates through their own savepoint (whose commit runs the page
#: work early, and renders the new pages): the whole request is counted.
TOTALS = {"transforming": 30}  # two outputs issued and their pages rendered, one input taken
#: Statements the page bump of one event may add today (pages.py's; it is to drop to one).
BUMP = 3


class Counter:
    """Statements on the test's connection, split at the first ``before_commit`` (where the
    page bump runs); savepoints are the test harness's, not the request's."""

    def __init__(self, connection: sa.Connection, sessions: Any):
        self.connection, self.sessions = connection, sessions
        self.before: list[str] = []
        self.after: list[str] = []
        self._committing = False

    def _record(self, _conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK", "BEGIN", "COMMIT")):
            return
        (self.after if self._committing else self.before).append(statement)

    def _commit(self, _session) -> None:  # type: ignore[no-untyped-def]
        self._committing = True

    def __enter__(self) -> Counter:
        sa.event.listen(self.connection, "before_cursor_execute", self._record)
        sa.event.listen(self.sessions, "before_commit", self._commit, insert=True)
        return self

    def __exit__(self, *_exc: object) -> None:
        sa.event.remove(self.connection, "before_cursor_execute", self._record)
        sa.event.remove(self.sessions, "before_commit", self._commit)


def post(client, member, body: dict[str, Any]):
    body = {"event_id": str(uuid.uuid4()), "occurred_at": WHEN, **body}
    return client.post("/api/v1/events", json=body, headers={**member.headers, "Accept-Language": "en"})


@pytest.fixture()
def world(client, make):
    producer, market = make.member(), make.member(OrgKind.MARKET)
    processor, retailer = make.member(OrgKind.PROCESSOR), make.member(OrgKind.RETAILER)
    certificate = make.certificate(producer, quantity=Decimal("100"))
    # A first request of each member notes its token's use (once a minute): not counted.
    for member in (producer, market, processor, retailer):
        client.get("/api/v1/certificates", headers=member.headers)
    return {
        "producer": producer,
        "market": market,
        "processor": processor,
        "retailer": retailer,
        "c": certificate,
    }


def _ship(client, w, to: str, quantity: str = "10") -> None:
    body = {"kind": "shipping", "trace_code": w["c"].trace_code, "quantity": quantity, "unit": "kg"}
    assert post(client, w["producer"], body | {"to_org": str(w[to].org.id)}).status_code == 201


def _received(client, w, who: str, quantity: str = "10") -> None:
    _ship(client, w, who, quantity)
    body = {"kind": "receiving", "trace_code": w["c"].trace_code, "quantity": quantity, "unit": "kg"}
    assert post(client, w[who], body).status_code == 201


SETUPS: dict[str, tuple[Callable[[Any, Any], None], str, Callable[[Any], dict[str, Any]]]] = {
    "shipping": (
        lambda c, w: None,
        "producer",
        lambda w: (
            {"kind": "shipping", "trace_code": w["c"].trace_code, "quantity": "10", "unit": "kg"}
            | {"to_org": str(w["market"].org.id)}
        ),
    ),
    "receiving": (
        lambda c, w: _ship(c, w, "market"),
        "market",
        lambda w: {"kind": "receiving", "trace_code": w["c"].trace_code, "quantity": "10", "unit": "kg"},
    ),
    "storing": (
        lambda c, w: None,
        "producer",
        lambda w: {
            "kind": "storing",
            "trace_code": w["c"].trace_code,
            "temperatures": [
                {"at": WHEN, "celsius": "3.5"},
                {"at": "2026-11-21T08:10:00+08:00", "celsius": "4"},
            ],
        },
    ),
    "retail_selling": (
        lambda c, w: _received(c, w, "retailer"),
        "retailer",
        lambda w: {"kind": "retail_selling", "trace_code": w["c"].trace_code, "quantity": "4", "unit": "kg"},
    ),
    "inspecting": (
        lambda c, w: _ship(c, w, "market"),
        "market",
        lambda w: {
            "kind": "inspecting",
            "trace_code": w["c"].trace_code,
            "result": "accepted",
            "certificate_status": "valid",
        },
    ),
    "portioning": (
        lambda c, w: _received(c, w, "market"),
        "market",
        lambda w: {
            "kind": "portioning",
            "trace_code": w["c"].trace_code,
            "outputs": [{"quantity": "2", "unit": "kg"}, {"quantity": "3", "unit": "kg"}],
        },
    ),
    "transforming": (
        lambda c, w: _received(c, w, "processor", "30"),
        "processor",
        lambda w: {
            "kind": "transforming",
            "trace_code": w["c"].trace_code,
            "quantity": "20",
            "unit": "kg",
            "outputs": [certificate_body(quantity="12"), certificate_body(quantity="6")],
        },
    ),
}


@pytest.mark.parametrize("kind", sorted(CEILINGS) + sorted(TOTALS))
def test_recording_an_event_costs_a_fixed_number_of_statements(client, world, connection, app, kind):
    setup, who, body = SETUPS[kind]
    setup(client, world)
    with Counter(connection, app.extensions["traceapp.db"].sessions) as counted:
        response = post(client, world[who], body(world))
    assert response.status_code == 201, response.json
    if kind in TOTALS:
        assert len(counted.before) + len(counted.after) <= TOTALS[kind]
    else:
        assert len(counted.before) <= CEILINGS[kind], "\n".join(counted.before)
        assert len(counted.after) <= BUMP, "\n".join(counted.after)
    # No look-up of the event id before the write: the unique constraint tells a repeat.
    assert not [s for s in counted.before if "events.client_event_id = " in s]
    # The answer built from the objects written is the one read back from the database.
    again = client.get(f"/api/v1/events/{response.json['id']}", headers=world[who].headers).json
    for moment in ("occurred_at", "recorded_at"):  # the same instants (read back in UTC)
        assert datetime.fromisoformat(again.pop(moment)) == datetime.fromisoformat(response.json[moment])
    assert again == {k: v for k, v in response.json.items() if k not in ("occurred_at", "recorded_at")}


def test_a_shipment_does_not_read_the_holding_before_taking_from_it(client, world, connection, app):
    _setup, who, body = SETUPS["shipping"]
    with Counter(connection, app.extensions["traceapp.db"].sessions) as counted:
        assert post(client, world[who], body(world)).status_code == 201
    assert not [s for s in counted.before if s.lstrip().upper().startswith("SELECT HOLDINGS")]
    assert not [s for s in counted.before if "FROM organisations WHERE organisations.id = " in s]
