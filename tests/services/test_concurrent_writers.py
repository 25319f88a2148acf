"""Several server processes writing one database at once, as ``traceapp demo`` runs (two
gunicorn workers) with four clients: every answer is a 2xx or a proper 4xx, never a 500.

On SQLite this is the multi-process proof on the database file (the workers are separate OS
processes with their own connections); on PostgreSQL the same races run across two server
processes. The server has its own committed database (STYLE rule 26).
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from tests.committed import committed_database
from tests.factories import certificate_body
from tests.live import Server, free_port
from traceapp import create_app, db
from traceapp.orgs import services as orgs
from traceapp.orgs.models import OrgKind, Role

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class World:
    server: Server
    producer_token: str
    market_id: str


def _member(session: Any, kind: OrgKind) -> tuple[str, str]:
    org = orgs.create_organisation(session, kind=kind, name=f"{kind.value}-{uuid.uuid4().hex[:6]}")
    email = f"w-{uuid.uuid4().hex[:8]}@example.cn"
    orgs.create_user(session, org_id=org.id, email=email, password="correct-horse-9", role=Role.ADMIN)
    return str(org.id), orgs.create_api_token(session, email=email)[1]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A producer and a market on a live server with two worker processes."""
    folder = tmp_path_factory.mktemp("writers")
    with committed_database("writers", folder) as url:
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": "writers"})
        try:
            with app.test_request_context(), db.transaction() as session:
                _producer_id, producer_token = _member(session, OrgKind.PRODUCER)
                market_id, _market_token = _member(session, OrgKind.MARKET)
        finally:
            app.extensions["traceapp.db"].dispose()
        server = Server(free_port(), url, folder / "server.log", "writers-secret", workers=2)
        server.start()
        try:
            yield World(server, producer_token, market_id)
        finally:
            server.stop()


def _post(world: World, path: str, body: dict[str, Any]) -> tuple[int, Any]:
    request = urllib.request.Request(
        world.server.url + path,
        data=json.dumps(body).encode(),
        method="POST",
        headers={
            "Authorization": f"Bearer {world.producer_token}",
            "Content-Type": "application/json",
            "Accept-Language": "en",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


def _get(world: World, path: str) -> Any:
    request = urllib.request.Request(
        world.server.url + path, headers={"Authorization": f"Bearer {world.producer_token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _batch(world: World, quantity: str = "100") -> str:
    status, document = _post(world, "/api/v1/certificates", certificate_body(quantity=quantity))
    assert status == 201, document
    return str(document["trace_code"])


def _shipment(world: World, code: str, quantity: str, event_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "event_id": str(event_id or uuid.uuid4()),
        "kind": "shipping",
        "occurred_at": "2026-11-21T08:00:00+08:00",
        "trace_code": code,
        "quantity": quantity,
        "unit": "kg",
        "to_org": world.market_id,
    }


def _at_once(clients: list[Callable[[], Any]]) -> list[Any]:
    """Run every client in its own thread, released together; what each returned."""
    barrier, results = threading.Barrier(len(clients)), [None] * len(clients)

    def run(index: int) -> None:
        barrier.wait()
        results[index] = clients[index]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def _on_hand(world: World, code: str) -> Decimal:
    """What is left on hand of a batch (only its producer holds any on hand here)."""
    holders = _get(world, f"/api/v1/codes/{code}")["holders"]
    return sum((Decimal(h["quantity"]) for h in holders if h["state"] == "on_hand"), Decimal(0))


def test_four_clients_shipping_from_one_batch_at_once_get_201_or_409_never_a_500(world):
    code = _batch(world)

    def client() -> list[tuple[int, Any]]:
        return [_post(world, "/api/v1/events", _shipment(world, code, "5")) for _ in range(7)]

    answers = [answer for answers in _at_once([client] * 4) for answer in answers]
    statuses = [status for status, _ in answers]
    assert set(statuses) <= {201, 409}, [a for a in answers if a[0] not in (201, 409)]
    assert statuses.count(201) == 20  # 20 × 5 kg = the 100 kg held; the other 8 are refused
    refused = [body for status, body in answers if status == 409]
    # Refused for the few kilograms left, or, once none are left, for holding none of it.
    assert {body["type"].rsplit("/", 1)[1] for body in refused} <= {"quantity-exceeded", "not-holder"}
    assert _on_hand(world, code) == 0


def test_the_loser_of_a_race_for_the_last_kilograms_gets_409(world):
    for _round in range(3):
        code = _batch(world)
        shipments = [_shipment(world, code, "60") for _ in range(2)]
        answers = _at_once([lambda body=body: _post(world, "/api/v1/events", body) for body in shipments])
        assert sorted(status for status, _ in answers) == [201, 409], answers
        loser = next(body for status, body in answers if status == 409)
        assert loser["type"].endswith("/quantity-exceeded") and "40" in loser["detail"]


def test_the_same_event_id_sent_twice_at_once_for_most_of_a_batch_is_201_and_a_200_replay(world):
    for _round in range(3):
        code = _batch(world)
        body = _shipment(world, code, "60", uuid.uuid4())
        answers = _at_once([lambda body=body: _post(world, "/api/v1/events", body)] * 2)
        assert sorted(status for status, _ in answers) == [200, 201], answers
        assert answers[0][1]["id"] == answers[1][1]["id"]
        assert _on_hand(world, code) == 40


def _epcis_event(event_id: str) -> dict[str, Any]:
    return {
        "@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "eventID": event_id,
        "type": "ObjectEvent",
        "action": "OBSERVE",
        "bizStep": "shipping",
        "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
        "eventTime": "2026-11-21T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00",
    }


def test_one_epcis_event_captured_by_four_clients_at_once_is_stored_once_and_never_a_500(world):
    for _round in range(3):
        event = _epcis_event(f"urn:uuid:{uuid.uuid4()}")
        document = {
            "@context": event["@context"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-11-21T08:00:00Z",
            "epcisBody": {"eventList": [{k: v for k, v in event.items() if k != "@context"}]},
        }
        answers = _at_once(
            [lambda event=event: _post(world, "/epcis/events", event)] * 2
            + [lambda document=document: _post(world, "/epcis/capture", document)] * 2
        )
        assert sorted(status for status, _ in answers[:2]) in ([200, 201], [200, 200]), answers
        assert all(body["success"] for status, body in answers[2:] if status == 202), answers
        assert [status for status, _ in answers[2:]] == [202, 202], answers
        found = _get(world, f"/epcis/events?EQ_eventID={event['eventID']}")
        assert len(found["epcisBody"]["queryResults"]["resultsBody"]["eventList"]) == 1
