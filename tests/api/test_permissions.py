"""Who may do what, over every write endpoint of the API, taken from the app's URL map.

For each write (and, for ``POST /api/v1/events``, each kind of event) the test asserts: 401
without a token and with a bad one; 403 with a token of every kind of organisation the
permission table refuses; the stated refusal for an organisation with no claim to the object
(another producer's certificate, a batch it does not hold, a recall it is not party to); all
of them problem+json with nothing written; and then the same call by the rightful actor
succeeds, so the refusals were about who asked, not what was sent.

A new write endpoint fails ``test_every_write_endpoint`` until it gets an entry in ``WRITES``
(one line: its name → a ``Write``).
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

import pytest
import sqlalchemy as sa
from PIL import Image

from tests.api.test_events_api import WHEN
from tests.factories import Factory, Member, certificate_body, seal_image
from traceapp import create_app
from traceapp.db import Base
from traceapp.orgs import members, seals
from traceapp.orgs.models import OrgKind, Role
from traceapp.orgs.permissions import Action, may

PDF = b"%PDF-1.4\n%%EOF\n"
SEAL_PNG = seal_image()
LOG = b"timestamp,temperature\n2026-11-21T08:00:00+08:00,3.2\n2026-11-21T08:15:00+08:00,3.6\n"
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


@dataclass
class World:
    """The objects the calls act on, built on first use through the real API."""

    client: Any
    make: Factory

    @cached_property
    def producer(self) -> Member:
        return self.make.member()

    @cached_property
    def certificate(self) -> Any:
        return self.make.certificate(self.producer, quantity=Decimal("100"))

    @cached_property
    def market(self) -> Member:
        return self.make.member(OrgKind.MARKET)

    @cached_property
    def market_batch(self) -> Any:
        return self.make.certificate(self.market, quantity=Decimal("50"))

    @cached_property
    def processor(self) -> Member:
        return self.make.member(OrgKind.PROCESSOR)

    @cached_property
    def processor_batch(self) -> Any:
        return self.make.certificate(self.processor, quantity=Decimal("50"))

    @cached_property
    def packer(self) -> Member:
        """A producer with a GS1 company prefix, so it can build pallets."""
        member = self.make.member()
        with self.make.app.test_request_context():
            members.set_company_prefix(self.make.session, member.actor, prefix="0614141")
        self.make.session.commit()
        return member

    @cached_property
    def packer_batch(self) -> Any:
        return self.make.certificate(self.packer, quantity=Decimal("40"))

    @cached_property
    def pallet(self) -> str:
        """A pallet the packer built with 10 kg of its batch: its SSCC."""
        body = event(
            "aggregating",
            cases=[{"trace_code": self.packer_batch.trace_code, "quantity": "10", "unit": "kg"}],
        )
        response = self.client.post(
            "/api/v1/events", json={**body, "event_id": str(uuid.uuid4())}, **auth(self.packer)
        )
        assert response.status_code == 201, response.json
        return response.json["details"]["sscc"]

    @cached_property
    def regulator(self) -> Member:
        return self.make.member(OrgKind.REGULATOR)

    @cached_property
    def shipment(self) -> str:
        """The producer's 20 kg of the certificate on their way to the market: its event id."""
        event_id = str(uuid.uuid4())
        body = event("shipping", self.certificate.trace_code, to_org=str(self.market.org.id), quantity="20")
        response = self.client.post(
            "/api/v1/events", json={**body, "event_id": event_id}, **auth(self.producer)
        )
        assert response.status_code == 201, response.json
        return event_id

    @cached_property
    def recall(self) -> str:
        """A recall the regulator opened on the certificate, with the market party to it."""
        assert self.shipment
        body = {"trace_codes": [self.certificate.trace_code], "reason": "农残超标", "severity": "class_i"}
        response = self.client.post("/api/v1/recalls", json=body, **auth(self.regulator))
        assert response.status_code == 201, response.json
        return response.json["id"]

    @cached_property
    def market_gate_token(self) -> str:
        """A second token of the market's user: its id."""
        body = {"name": "gate", "scopes": ["read", "events"]}
        response = self.client.post("/api/v1/tokens", json=body, **auth(self.market))
        assert response.status_code == 201, response.json
        return response.json["id"]

    @cached_property
    def gate_take(self) -> str:
        """The market's gate check that took the producer's 10 kg with its hand-over code: its id."""
        code = self.client.post(
            "/api/v1/handover-codes",
            json={"event_id": str(uuid.uuid4()), "trace_code": self.certificate.trace_code},
            **auth(self.producer),
        )
        assert code.status_code == 201, code.json
        body = event(
            "inspecting",
            self.certificate.trace_code,
            certificate_status="valid",
            result="accepted",
            quantity="10",
            handover_code=code.json["code"],
        )
        response = self.client.post(
            "/api/v1/events", json={**body, "event_id": str(uuid.uuid4())}, **auth(self.market)
        )
        assert response.status_code == 201, response.json
        return response.json["id"]

    @cached_property
    def dispute(self) -> str:
        """The producer's dispute of that gate check: its id."""
        body = {"event_id": str(uuid.uuid4()), "gate_check_id": self.gate_take, "reason": "不是我交的货"}
        response = self.client.post("/api/v1/disputes", json=body, **auth(self.producer))
        assert response.status_code == 201, response.json
        return response.json["id"]

    @cached_property
    def notification(self) -> str:
        """The producer's notification of the regulator's recall of its batch: its id."""
        assert self.recall
        response = self.client.get("/api/v1/notifications", **auth(self.producer))
        assert response.status_code == 200, response.json
        return response.json["items"][0]["id"]

    @cached_property
    def purchase(self) -> str:
        """The market's purchase of a lot with another system's certificate: its id."""
        response = self.client.post("/api/v1/purchases", json=purchase(), **auth(self.market))
        assert response.status_code == 201, response.json
        return response.json["id"]

    @cached_property
    def sealed_producer(self) -> Member:
        """A producer with a seal image."""
        member = self.make.member()
        with self.make.app.test_request_context():
            seals.upload_seal(self.make.session, member.actor, data=SEAL_PNG)
        self.make.session.commit()
        return member

    def another(self, kind: OrgKind = OrgKind.PRODUCER, **kwargs: Any) -> Member:
        return self.make.member(kind, **kwargs)


Call = Callable[[World], tuple[str, dict[str, Any]]]


@dataclass(frozen=True)
class Write:
    """One write: how to call it, the table's action (None: every kind may), who owns the object
    and must succeed, and who has no claim to it with the refusal they get."""

    call: Call
    action: Action | None
    owner: Callable[[World], Member]
    strangers: list[tuple[Callable[[World], Member], int]] = field(default_factory=list)
    success: int = 201


def auth(member: Member) -> dict[str, Any]:
    return {"headers": {**member.headers, "Accept-Language": "en"}}


def event(kind: str, code: str | None = None, **body: Any) -> dict[str, Any]:
    """An event body; a fixed id is fine, since refused calls store nothing."""
    body = {"event_id": "0b6f1a3e-2f4e-4f0e-9a55-6f0b8a6c2d11", "kind": kind, "occurred_at": WHEN, **body}
    if code is not None:
        body["trace_code"] = code
    if "quantity" in body:
        body.setdefault("unit", "kg")
    return body


def purchase() -> dict[str, Any]:
    """A purchase body with a fresh id (a foreign certificate: nothing else must exist)."""
    line = {
        "product_name": "大白菜",
        "quantity": "20",
        "unit": "kg",
        "collected": "foreign",
        "code": "ZJ-1",
        "url": "https://hgz.example.gov.cn/q?c=ZJ-1",
    }
    return {"event_id": str(uuid.uuid4()), "seller": {"name": "张三"}, "purchased_at": WHEN, "lines": [line]}


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="JPEG")
    return out.getvalue()


def events(body: Callable[[World], dict[str, Any]]) -> Call:
    return lambda w: ("/api/v1/events", {"json": body(w)})


def holder_of_nothing(kind: OrgKind) -> Callable[[World], Member]:
    return lambda w: w.another(kind)


NOT_HOLDER = 409  # a batch one does not hold is a state conflict (CONTRACT: 409), as today
EPCIS_EVENT = {
    "@context": "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
    "eventID": "urn:uuid:0b6f1a3e-2f4e-4f0e-9a55-6f0b8a6c2d12",
    "type": "ObjectEvent",
    "action": "OBSERVE",
    "bizStep": "shipping",
    "epcList": ["urn:epc:id:sgtin:0614141.107346.2017"],
    "eventTime": "2026-11-21T08:00:00+08:00",
    "eventTimeZoneOffset": "+08:00",
}
EPCIS_DOCUMENT = {
    "@context": EPCIS_EVENT["@context"],
    "type": "EPCISDocument",
    "schemaVersion": "2.0",
    "creationDate": "2026-11-21T08:00:00Z",
    "epcisBody": {"eventList": [{k: v for k, v in EPCIS_EVENT.items() if k != "@context"}]},
}

WRITES: dict[str, list[tuple[str, Write]]] = {
    "POST /epcis/capture": [
        (
            "capture",
            Write(
                lambda w: ("/epcis/capture", {"json": EPCIS_DOCUMENT}),
                Action.CAPTURE_EPCIS,
                lambda w: w.producer,
                success=202,
            ),
        )
    ],
    "POST /epcis/events": [
        (
            "capture one event",
            Write(
                lambda w: ("/epcis/events", {"json": EPCIS_EVENT}), Action.CAPTURE_EPCIS, lambda w: w.producer
            ),
        )
    ],
    "POST /api/v1/purchases": [
        (
            "record",
            Write(lambda w: ("/api/v1/purchases", {"json": purchase()}), Action.PURCHASE, lambda w: w.market),
        )
    ],
    "POST /api/v1/purchases/<uuid:purchase_id>/void": [
        (
            "void",
            Write(
                lambda w: (f"/api/v1/purchases/{w.purchase}/void", {"json": {"reason": "录错了"}}),
                Action.PURCHASE,
                lambda w: w.market,
                [(lambda w: w.another(OrgKind.MARKET), 404)],  # another buyer: the purchase is hidden
                success=200,
            ),
        )
    ],
    "POST /api/v1/purchases/photos": [
        (
            "upload",
            Write(
                lambda w: ("/api/v1/purchases/photos", {"data": {"file": (io.BytesIO(jpeg()), "paper.jpg")}}),
                Action.PURCHASE,
                lambda w: w.market,
            ),
        )
    ],
    "PUT /api/v1/purchases/retention": [
        (
            "retention",
            Write(
                lambda w: ("/api/v1/purchases/retention", {"json": {"retention_months": 24}}),
                Action.MANAGE_SETTINGS,
                lambda w: w.market,
                [(lambda w: w.another(org=w.market.org, role=Role.MEMBER), 403)],  # not an admin
                success=200,
            ),
        )
    ],
    "POST /api/v1/pallets/<sscc>/ship": [
        (
            "ship a pallet",
            Write(
                lambda w: (
                    f"/api/v1/pallets/{w.pallet}/ship",
                    {
                        "json": {
                            "event_id": str(uuid.uuid4()),
                            "occurred_at": WHEN,
                            "to_org": str(w.market.org.id),
                        }
                    },
                ),
                Action.SHIP,
                lambda w: w.packer,
                [(holder_of_nothing(OrgKind.PRODUCER), NOT_HOLDER)],
            ),
        )
    ],
    "POST /api/v1/certificates": [
        (
            "issue",
            Write(
                lambda w: ("/api/v1/certificates", {"json": certificate_body()}),
                Action.ISSUE,
                lambda w: w.producer,
            ),
        )
    ],
    "POST /api/v1/certificates/<uuid:certificate_id>/revoke": [
        (
            "revoke",
            Write(
                lambda w: (f"/api/v1/certificates/{w.certificate.id}/revoke", {"json": {"reason": "写错了"}}),
                Action.REVOKE,
                lambda w: w.producer,
                [
                    (lambda w: w.another(), 404),  # another producer: the certificate is hidden
                    (lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403),  # a colleague
                ],
                success=200,
            ),
        )
    ],
    "POST /api/v1/reports": [
        (
            "upload",
            Write(
                lambda w: ("/api/v1/reports", {"data": {"file": (io.BytesIO(PDF), "report.pdf")}}),
                Action.UPLOAD_REPORT,
                lambda w: w.producer,
            ),
        )
    ],
    "POST /api/v1/events/batch": [
        (
            "shipping",
            # The token is checked for the whole request (401); the permission table refuses
            # each event on its own inside the 200 (tests/api/test_events_batch.py).
            Write(
                lambda w: (
                    "/api/v1/events/batch",
                    {
                        "json": {
                            "events": [
                                event(
                                    "shipping",
                                    w.certificate.trace_code,
                                    quantity="5",
                                    to_org=str(w.market.org.id),
                                )
                            ]
                        }
                    },
                ),
                None,
                lambda w: w.producer,
                success=200,
            ),
        )
    ],
    "POST /api/v1/events": [
        (
            "shipping",
            Write(
                events(
                    lambda w: event(
                        "shipping", w.certificate.trace_code, quantity="5", to_org=str(w.market.org.id)
                    )
                ),
                Action.SHIP,
                lambda w: w.producer,
                [(holder_of_nothing(OrgKind.PRODUCER), NOT_HOLDER)],
            ),
        ),
        (
            "receiving",
            Write(
                events(
                    lambda w: event(
                        "receiving", w.certificate.trace_code, quantity="20", shipping_event_id=w.shipment
                    )
                ),
                Action.RECEIVE,
                lambda w: w.market,
                [(holder_of_nothing(OrgKind.MARKET), 422)],  # /shipping_event_id: none on its way to it
            ),
        ),
        (
            "storing",
            Write(
                events(lambda w: event("storing", w.certificate.trace_code)),
                Action.STORE,
                lambda w: w.producer,
                [(holder_of_nothing(OrgKind.CARRIER), NOT_HOLDER)],
            ),
        ),
        (
            "transporting",
            Write(
                events(lambda w: event("transporting", w.certificate.trace_code)),
                Action.TRANSPORT,
                lambda w: w.producer,
                [(holder_of_nothing(OrgKind.CARRIER), NOT_HOLDER)],
            ),
        ),
        (
            "inspecting",
            Write(
                events(
                    lambda w: event(
                        "inspecting",
                        w.certificate.trace_code,
                        certificate_status="valid",
                        result="accepted",
                        quantity="10",
                    )
                ),
                Action.INSPECT,
                lambda w: w.market,  # any market may check a batch brought to its gate
            ),
        ),
        (
            "transforming",
            Write(
                events(
                    lambda w: event(
                        "transforming",
                        inputs=[{"trace_code": w.processor_batch.trace_code, "quantity": "10", "unit": "kg"}],
                        outputs=[certificate_body(product_name="净菜", quantity="9")],
                    )
                ),
                Action.TRANSFORM,
                lambda w: w.processor,
                [(holder_of_nothing(OrgKind.PROCESSOR), NOT_HOLDER)],
            ),
        ),
        (
            "aggregating",
            Write(
                events(
                    lambda w: event(
                        "aggregating",
                        cases=[{"trace_code": w.packer_batch.trace_code, "quantity": "10", "unit": "kg"}],
                    )
                ),
                Action.AGGREGATE,
                lambda w: w.packer,
                [(holder_of_nothing(OrgKind.PRODUCER), NOT_HOLDER)],
            ),
        ),
        (
            "portioning",
            Write(
                events(
                    lambda w: event(
                        "portioning", w.market_batch.trace_code, outputs=[{"quantity": "5", "unit": "kg"}]
                    )
                ),
                Action.PORTION,
                lambda w: w.market,
                [(holder_of_nothing(OrgKind.MARKET), NOT_HOLDER)],
            ),
        ),
        (
            "retail_selling",
            Write(
                events(lambda w: event("retail_selling", w.certificate.trace_code, quantity="1")),
                Action.SELL,
                lambda w: w.producer,
                [(holder_of_nothing(OrgKind.RETAILER), NOT_HOLDER)],
            ),
        ),
        (
            "destroying",
            Write(
                events(lambda w: event("destroying", w.certificate.trace_code, quantity="1")),
                Action.DESTROY,
                lambda w: w.producer,
                [(holder_of_nothing(OrgKind.PRODUCER), NOT_HOLDER)],
            ),
        ),
        (
            "voiding",
            Write(
                events(lambda w: event("voiding", corrects={"event_id": w.shipment, "reason": "发错了"})),
                Action.CORRECT,
                lambda w: w.producer,
                [(lambda w: w.another(), 422)],  # /corrects/event_id: no event of its own has it
            ),
        ),
    ],
    "POST /api/v1/handover-codes": [
        (
            "give",
            Write(
                lambda w: (
                    "/api/v1/handover-codes",
                    {"json": {"event_id": str(uuid.uuid4()), "trace_code": w.certificate.trace_code}},
                ),
                Action.HAND_OVER,
                lambda w: w.producer,
                [(holder_of_nothing(OrgKind.MARKET), NOT_HOLDER)],  # a market cannot vouch for it
            ),
        )
    ],
    "POST /api/v1/disputes": [
        (
            "open",
            Write(
                lambda w: (
                    "/api/v1/disputes",
                    {"json": {"event_id": str(uuid.uuid4()), "gate_check_id": w.gate_take, "reason": "冒用"}},
                ),
                Action.DISPUTE,
                lambda w: w.producer,
                [
                    (lambda w: w.another(), 422),  # /gate_check_id: it took nothing of this one's
                    (lambda w: w.market, 422),  # the gate cannot dispute its own check
                ],
            ),
        )
    ],
    "POST /api/v1/notifications/<uuid:notification_id>/read": [
        (
            "read",
            Write(
                lambda w: (f"/api/v1/notifications/{w.notification}/read", {}),
                Action.READ_NOTIFICATIONS,
                lambda w: w.producer,
                [(lambda w: w.another(), 404), (lambda w: w.regulator, 404)],
                success=200,
            ),
        )
    ],
    "POST /api/v1/disputes/<uuid:dispute_id>/resolve": [
        (
            "resolve",
            Write(
                lambda w: (
                    f"/api/v1/disputes/{w.dispute}/resolve",
                    {"json": {"decision": "dismissed", "note": "属实"}},
                ),
                Action.RESOLVE_DISPUTE,
                lambda w: w.regulator,
                success=200,
            ),
        )
    ],
    "POST /api/v1/temperature-logs/parse": [
        (
            "parse",
            Write(
                lambda w: (
                    "/api/v1/temperature-logs/parse",
                    {"data": {"file": (io.BytesIO(LOG), "log.csv")}},
                ),
                None,
                lambda w: w.another(OrgKind.CARRIER),
                success=200,
            ),
        )
    ],
    "POST /api/v1/recalls": [
        (
            "open",
            Write(
                lambda w: (
                    "/api/v1/recalls",
                    {
                        "json": {
                            "trace_codes": [w.certificate.trace_code],
                            "reason": "农残超标",
                            "severity": "class_i",
                        }
                    },
                ),
                Action.RECALL,
                lambda w: w.producer,
                [(lambda w: w.another(), 403)],  # a producer recalls only what it issued
            ),
        )
    ],
    "POST /api/v1/recalls/<uuid:recall_id>/acknowledge": [
        (
            "acknowledge",
            Write(
                lambda w: (f"/api/v1/recalls/{w.recall}/acknowledge", {}),
                Action.ACKNOWLEDGE_RECALL,
                lambda w: w.market,
                [(lambda w: w.another(OrgKind.MARKET), 404)],  # not party to it: hidden
                success=200,
            ),
        )
    ],
    "POST /api/v1/recalls/<uuid:recall_id>/exports": [
        (
            "export",
            Write(
                lambda w: (f"/api/v1/recalls/{w.recall}/exports", {"json": {"format": "csv"}}),
                Action.EXPORT_RECALL,
                lambda w: w.market,  # party to the recall
                [(lambda w: w.another(), 404)],  # not party to it: hidden
                success=202,
            ),
        )
    ],
    # The organisation's own operator fields and seal: only its admins; a member is refused.
    "PATCH /api/v1/organisation": [
        (
            "set the credit code",
            Write(
                lambda w: ("/api/v1/organisation", {"json": {"credit_code": "91350100M000100Y43"}}),
                Action.MANAGE_SETTINGS,
                lambda w: w.producer,
                [(lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403)],
                success=200,
            ),
        )
    ],
    "POST /api/v1/organisation/seal": [
        (
            "upload a seal",
            Write(
                lambda w: (
                    "/api/v1/organisation/seal",
                    {"data": {"seal": (io.BytesIO(SEAL_PNG), "seal.png")}},
                ),
                Action.MANAGE_SETTINGS,
                lambda w: w.producer,
                [(lambda w: w.another(org=w.producer.org, role=Role.MEMBER), 403)],
            ),
        )
    ],
    "DELETE /api/v1/organisation/seal": [
        (
            "remove the seal",
            Write(
                lambda w: ("/api/v1/organisation/seal", {}),
                Action.MANAGE_SETTINGS,
                lambda w: w.sealed_producer,
                [(lambda w: w.another(org=w.sealed_producer.org, role=Role.MEMBER), 403)],
                success=204,
            ),
        )
    ],
    "POST /api/v1/tokens": [
        (
            "create",
            Write(
                lambda w: ("/api/v1/tokens", {"json": {"name": "东门扫码枪", "scopes": ["read", "events"]}}),
                Action.MANAGE_TOKENS,
                lambda w: w.market,
            ),
        )
    ],
    "POST /api/v1/tokens/<uuid:token_id>/revoke": [
        (
            "revoke",
            Write(
                lambda w: (f"/api/v1/tokens/{w.market_gate_token}/revoke", {}),
                Action.MANAGE_TOKENS,
                lambda w: w.market,
                [
                    (lambda w: w.another(OrgKind.MARKET), 404),  # another organisation's token: hidden
                    (lambda w: w.another(org=w.market.org, role=Role.MEMBER), 404),  # a colleague's
                ],
                success=200,
            ),
        )
    ],
    "POST /api/v1/recalls/<uuid:recall_id>/close": [
        (
            "close",
            Write(
                lambda w: (f"/api/v1/recalls/{w.recall}/close", {"json": {"note": "已处理"}}),
                Action.CLOSE_RECALL,
                lambda w: w.regulator,
                [
                    (lambda w: w.producer, 403),  # party to it, but did not open it
                    (lambda w: w.another(), 404),  # not party to it: hidden
                ],
                success=200,
            ),
        )
    ],
}


def write_endpoints() -> list[str]:
    """``METHOD rule`` of every write under /api/v1 and /epcis, from the URL map of a fresh app."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE_URL": "sqlite://"})
    return sorted(
        f"{method} {rule.rule}"
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(("/api/v1/", "/epcis/"))
        for method in rule.methods & WRITE_METHODS
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "endpoint" in metafunc.fixturenames:
        cases = [(e, n) for e in write_endpoints() for n, _w in WRITES.get(e, [("no entry", None)])]
        metafunc.parametrize(("endpoint", "variant"), cases, ids=[f"{e} [{n}]" for e, n in cases])


#: What signing in and using a token write of themselves, whatever the call: the sessions, a
#: token's last use and those audit entries. Every other row (other audit entries included) counts.
BOOKKEEPING_TABLES = {"user_sessions"}
BOOKKEEPING_COLUMNS = {"api_tokens": {"last_used_at"}}
BOOKKEEPING_AUDIT = {"sign_in", "sign_in.failed", "sign_out", "token.used"}


def _rows(dbsession, table: sa.Table) -> list[str]:
    skip = BOOKKEEPING_COLUMNS.get(table.name, set())
    query = sa.select(*(c for c in table.columns if c.name not in skip))
    if table.name == "audit_log":
        query = query.where(table.c.action.not_in(BOOKKEEPING_AUDIT))
    return sorted(repr(tuple(row)) for row in dbsession.execute(query))


def snapshot(dbsession) -> dict[str, list[str]]:
    """Every row of every table, so a refused call that wrote anything (or updated) shows
    (apart from the bookkeeping of signing in and using a token)."""
    dbsession.expire_all()
    return {
        table.name: _rows(dbsession, table)
        for table in Base.metadata.sorted_tables
        if table.name not in BOOKKEEPING_TABLES
    }


def assert_refused(response, status: int) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["status"] == status


def test_every_write_endpoint(client, make, dbsession, endpoint, variant):
    entries = dict(WRITES.get(endpoint, []))
    assert variant in entries, f"{endpoint} has no entry in WRITES: add one (a name → a Write)"
    write, world = entries[variant], World(client, make)
    owner = write.owner(world)
    refused_kinds = [k for k in OrgKind if write.action and not may(k, Role.ADMIN, write.action)]
    refused = {kind: world.another(kind) for kind in refused_kinds}
    strangers = [(stranger(world), status) for stranger, status in write.strangers]
    method = endpoint.split()[0].lower()
    write.call(world)  # build what the call acts on before the snapshot
    before = snapshot(dbsession)

    def send(headers: dict[str, str]) -> Any:
        url, kwargs = write.call(world)
        return getattr(client, method)(url, headers={**headers, "Accept-Language": "en"}, **kwargs)

    assert_refused(send({}), 401)
    assert_refused(send({"Authorization": "Bearer tat_not-a-token"}), 401)
    for kind, member in refused.items():
        response = send(member.headers)
        assert_refused(response, 403)
        assert "Only " in response.json["detail"], kind
    for member, status in strangers:
        assert_refused(send(member.headers), status)
    assert snapshot(dbsession) == before
    response = send(owner.headers)
    assert response.status_code == write.success, response.get_data(as_text=True)


def test_every_entry_is_a_write_endpoint_of_the_app():
    assert set(WRITES) <= set(write_endpoints())


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/certificates",
        "/api/v1/certificates/00000000-0000-4000-8000-000000000000",
        "/api/v1/codes/ABCD",
        "/api/v1/trace/ABCD",
        "/api/v1/recalls",
        "/api/v1/handover-codes",
        "/api/v1/handovers",
        "/api/v1/disputes",
        "/api/v1/disputes/00000000-0000-4000-8000-000000000000",
        "/api/v1/notifications",
        "/epcis/events",
        "/epcis/capture",
        "/epcis/bizSteps",
    ],
)
def test_reads_need_a_token_too(client, url):
    for headers in ({}, {"Authorization": "Bearer tat_not-a-token"}):
        assert_refused(client.get(url, headers=headers), 401)


def test_other_organisations_certificates_are_not_listed_nor_readable(client, make):
    owner, other = make.member(), make.member()
    certificate = make.certificate(owner)
    assert client.get("/api/v1/certificates", headers=other.headers).json["total"] == 0
    for tail in (
        "",
        "/qr.png",
        "/label.png",
        "/label.pdf",
        "/label.zpl",
        "/label.tspl",
        "/label.escpos",
        "/sheet.pdf",
        "/share.png",
        "/case.png",
        "/case.pdf",
        "/case.zpl",
        "/case.tspl",
        "/case.escpos",
    ):
        response = client.get(f"/api/v1/certificates/{certificate.id}{tail}", headers=other.headers)
        assert response.status_code == 404 and response.mimetype == "application/problem+json"
