"""EPCIS 2.0 export, validated against GS1's own JSON Schema and examples in ../shared.

GS1's files are read where they lie (they carry no open licence; never copy them here). The
validator checks ``format: uri`` and ``date-time`` with the strict checkers below, so a bare
bizStep GS1 does not define, or an extension key without a prefix, fails as it should.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest

from traceapp.codes import ALPHABET, is_valid_trace_code
from traceapp.epcis.documents import (
    EPCIS_CONTEXT,
    EventView,
    ItemView,
    ReadingView,
    commissioning_view,
    epcis_document,
)

EPCIS_DIR = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "epcis"
if not (EPCIS_DIR / "EPCIS-JSON-Schema.json").is_file():
    pytest.skip(f"GS1 EPCIS conformance files not found in {EPCIS_DIR}", allow_module_level=True)

BASE = "https://trace.example.cn"
GTIN = "09506000134352"
NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
T0 = datetime(2026, 11, 20, 22, 30, tzinfo=UTC)  # 06:30 on the 21st in China
PRODUCER, WHOLESALER, CARRIER, MARKET = (uuid.UUID(int=n) for n in (1, 2, 3, 4))


def _code(body: str) -> str:
    return next(body + s for s in ALPHABET if is_valid_trace_code(body + s))


SPINACH, EGGS, MIX, CRATES = (
    _code(b) for b in ("SPNACH2345678", "EGGS234567892", "M2XSALAD34567", "CRATES2345678")
)


_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]*")


def _uri(value: object) -> bool:
    """An absolute URI (RFC 3986 characters); formats only constrain strings."""
    return not isinstance(value, str) or _URI.fullmatch(value) is not None


def _date_time(value: object) -> bool:
    """An RFC 3339 date-time that Python can also read."""
    if not isinstance(value, str):
        return True
    shape = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)"
    if re.fullmatch(shape, value) is None:
        return False
    datetime.fromisoformat(value.replace("z", "Z"))
    return True


@pytest.fixture(scope="module")
def validator() -> Any:
    schema = json.loads((EPCIS_DIR / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    checker = jsonschema.FormatChecker(formats=())
    checker.checks("uri")(_uri)
    checker.checks("date-time", raises=ValueError)(_date_time)
    return cls(schema, format_checker=checker)


def _errors(validator: Any, document: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(document)]


def _view(
    kind: str, epcis_type: str, action: str | None, biz_step: str, disposition: str | None, **fields: Any
) -> EventView:
    fields.setdefault("occurred_at", T0)
    fields.setdefault("recorded_at", T0 + timedelta(minutes=5))
    return EventView(
        id=fields.pop("id", uuid.uuid4()),
        kind=kind,
        epcis_type=epcis_type,
        action=action,
        biz_step=biz_step,
        disposition=disposition,
        tz_offset=fields.pop("tz_offset", "+08:00"),
        **fields,
    )


def _item(
    code: str, quantity: str | None, unit: str | None, role: str = "subject", gtin: str | None = None
) -> ItemView:
    return ItemView(code, gtin, None if quantity is None else Decimal(quantity), unit, role)


CERTIFICATE = SimpleNamespace(
    id=uuid.uuid4(),
    trace_code=SPINACH,
    gtin=GTIN,
    quantity=Decimal(500),
    unit="jin",
    issued_at=T0 - timedelta(days=1),
    org_id=PRODUCER,
)
SHIPPING = _view(
    "shipping",
    "ObjectEvent",
    "OBSERVE",
    "shipping",
    "in_transit",
    location="寿光 packhouse 1",
    org_id=PRODUCER,
    source_org_id=PRODUCER,
    destination_org_id=WHOLESALER,
    carrier_org_id=CARRIER,
    items=(_item(SPINACH, "100", "jin", gtin=GTIN),),
)
CORRECTION = _view(
    "shipping",
    "ObjectEvent",
    "OBSERVE",
    "shipping",
    "in_transit",
    recorded_at=T0 + timedelta(hours=2),
    org_id=PRODUCER,
    source_org_id=PRODUCER,
    destination_org_id=WHOLESALER,
    corrects_id=SHIPPING.id,
    correction_reason="typed 100 instead of 90",
    items=(_item(SPINACH, "90", "jin", gtin=GTIN),),
)
LEG = _view(
    "transporting",
    "ObjectEvent",
    "OBSERVE",
    "transporting",
    "in_transit",
    occurred_at=T0 + timedelta(hours=3),
    org_id=CARRIER,
    items=(_item(SPINACH, None, None, gtin=GTIN),),
    readings=tuple(
        ReadingView(T0 + timedelta(hours=h), Decimal(c)) for h, c in ((3, "4.5"), (1, "2"), (2, "3.25"))
    ),
    details={
        "cold_chain": {
            "verdict": "excursion",
            "range": ["0", "4"],
            "min": "2",
            "max": "4.5",
            "extreme_at": None,
        }
    },
)
TRANSFORMING = _view(
    "transforming",
    "TransformationEvent",
    None,
    "transforming",
    "active",
    location="Central kitchen",
    org_id=WHOLESALER,
    items=(
        _item(SPINACH, "45", "kg", "input", GTIN),
        _item(EGGS, "30", "piece", "input"),
        _item(MIX, "60.5", "kg", "output"),
        _item(CRATES, "12", "box", "output"),
    ),
)
INSPECTING = _view(
    "inspecting",
    "ObjectEvent",
    "OBSERVE",
    "inspecting",
    "conformant",
    location="Xinfadi market gate 3",
    org_id=MARKET,
    source_org_id=WHOLESALER,
    destination_org_id=MARKET,
    items=(_item(MIX, "60.5", "kg"),),
    details={
        "result": "accepted",
        "certificate_status": "valid",
        "tests": [
            {
                "method": "enzyme_inhibition",
                "item": "organophosphates",
                "value": "12.5",
                "result": "negative",
                "tester": "Wang",
                "tested_at": "2026-11-21T08:00:00+08:00",
            }
        ],
        "brought_by": {"name": "Zhao", "phone": "13800000000", "vehicle": "京A12345"},
    },
)
RECEIVING = _view(
    "receiving",
    "ObjectEvent",
    "OBSERVE",
    "receiving",
    "in_progress",
    location="Xinfadi market gate 3",
    org_id=MARKET,
    items=(_item(CRATES, "12", "box"),),
)
VOIDING = _view(
    "voiding",
    "ObjectEvent",
    "OBSERVE",
    "void_shipping",
    None,
    org_id=MARKET,
    recorded_at=T0 + timedelta(hours=6),
    corrects_id=RECEIVING.id,
    correction_reason="recorded at the wrong market",
    items=(_item(CRATES, None, None),),
)
EVENTS = [
    commissioning_view(CERTIFICATE, tz_offset="+08:00"),
    SHIPPING,
    CORRECTION,
    LEG,
    TRANSFORMING,
    INSPECTING,
    RECEIVING,
    VOIDING,
]


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return epcis_document(EVENTS, base_url=BASE + "/", created_at=NOW)


def _by_id(document: dict[str, Any], view: EventView) -> dict[str, Any]:
    [event] = [e for e in document["epcisBody"]["eventList"] if e["eventID"] == f"urn:uuid:{view.id}"]
    return event


# --- the validator itself ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Example_9.6.1-ObjectEvent.jsonld",
        "Example_9.6.4-TransformationEvent.jsonld",
        "WithSensorData/SensorDataExample1.jsonld",
        "WithErrorDeclaration/ErrorDeclarationAndCorrectiveEvent.jsonld",
        "WithFullCombinationOfFields/object_event_all_possible_fields.jsonld",
    ],
)
def test_gs1s_own_examples_pass_the_validator(validator: Any, name: str) -> None:
    example = json.loads((EPCIS_DIR / "examples" / name).read_text(encoding="utf-8"))
    assert _errors(validator, example) == []


@pytest.mark.parametrize(
    "path, value",
    [
        (("bizStep",), "frobnicating"),  # not a CBV step and not a URI
        (
            ("errorDeclaration", "reason"),
            "urn:epcglobal:cbv:er:incorrect_data",
        ),  # CBV 2.0 wants the short name
        (("myField",), "an extension without a prefix"),
        (("eventTime",), "2026-11-21 06:30"),
        (("eventTimeZoneOffset",), "+8:00"),
    ],
)
def test_the_validator_rejects_what_gs1_forbids(
    validator: Any, document: dict[str, Any], path: tuple[str, ...], value: str
) -> None:
    broken = json.loads(json.dumps(document))
    target = broken["epcisBody"]["eventList"][1]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert _errors(validator, broken)


# --- our document -----------------------------------------------------------------------------


def test_the_whole_document_is_valid_epcis_2_json(validator: Any, document: dict[str, Any]) -> None:
    assert _errors(validator, document) == []
    assert json.loads(json.dumps(document)) == document  # plain JSON: no Decimal, UUID or datetime


def test_the_header_follows_gs1s_examples(document: dict[str, Any]) -> None:
    assert document["@context"][0] == EPCIS_CONTEXT
    assert document["@context"][1]["traceapp"] == f"{BASE}/ns/"
    assert (document["type"], document["schemaVersion"]) == ("EPCISDocument", "2.0")
    assert document["creationDate"] == "2026-11-22T09:00:00+00:00"


def test_a_voiding_is_no_event_of_its_own(document: dict[str, Any]) -> None:
    ids = [e["eventID"] for e in document["epcisBody"]["eventList"]]
    assert ids == [f"urn:uuid:{v.id}" for v in EVENTS if v.kind != "voiding"]
    assert all(e["traceapp:kind"] != "voiding" for e in document["epcisBody"]["eventList"])


def test_shipping_maps_time_place_parties_and_quantity(document: dict[str, Any]) -> None:
    event = _by_id(document, SHIPPING)
    assert (event["type"], event["action"], event["bizStep"], event["disposition"]) == (
        "ObjectEvent",
        "OBSERVE",
        "shipping",
        "in_transit",
    )
    assert (event["eventTime"], event["eventTimeZoneOffset"]) == ("2026-11-21T06:30:00+08:00", "+08:00")
    assert event["recordTime"] == "2026-11-20T22:35:00+00:00"
    assert event["quantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{GTIN}/10/{SPINACH}", "quantity": 50, "uom": "KGM"}
    ]  # 100 斤
    assert event["readPoint"] == {"id": f"{BASE}/locations/%E5%AF%BF%E5%85%89%20packhouse%201"}
    assert "bizLocation" not in event  # in transit: at no business location
    assert event["sourceList"] == [
        {"type": t, "source": f"{BASE}/orgs/{PRODUCER}"} for t in ("owning_party", "possessing_party")
    ]
    assert {d["destination"] for d in event["destinationList"]} == {f"{BASE}/orgs/{WHOLESALER}"}
    assert (event["traceapp:recordedBy"], event["traceapp:carrier"]) == (
        f"{BASE}/orgs/{PRODUCER}",
        f"{BASE}/orgs/{CARRIER}",
    )


def test_a_corrected_event_declares_its_error_and_names_the_correction(document: dict[str, Any]) -> None:
    assert _by_id(document, SHIPPING)["errorDeclaration"] == {
        "declarationTime": "2026-11-21T00:30:00+00:00",
        "reason": "incorrect_data",
        "correctiveEventIDs": [f"urn:uuid:{CORRECTION.id}"],
        "traceapp:reason": "typed 100 instead of 90",
    }
    assert "errorDeclaration" not in _by_id(document, CORRECTION)
    assert _by_id(document, CORRECTION)["quantityList"][0]["quantity"] == 45


def test_a_voided_event_did_not_occur_and_has_no_corrective_event(document: dict[str, Any]) -> None:
    declaration = _by_id(document, RECEIVING)["errorDeclaration"]
    assert declaration == {
        "declarationTime": "2026-11-21T04:30:00+00:00",
        "reason": "did_not_occur",
        "traceapp:reason": "recorded at the wrong market",
    }


def test_a_leg_carries_its_readings_in_order_as_one_sensor_element(document: dict[str, Any]) -> None:
    event = _by_id(document, LEG)
    [element] = event["sensorElementList"]
    assert element["sensorMetadata"] == {
        "startTime": "2026-11-21T07:30:00+08:00",
        "endTime": "2026-11-21T09:30:00+08:00",
    }
    assert element["sensorReport"] == [
        {"type": "Temperature", "value": value, "uom": "CEL", "time": f"2026-11-21T0{h}:30:00+08:00"}
        for h, value in ((7, 2), (8, 3.25), (9, 4.5))
    ]
    assert event["quantityList"] == [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/{SPINACH}"}]
    assert event["traceapp:cold_chain"]["traceapp:verdict"] == "excursion"


def test_a_leg_with_only_a_min_and_max_reports_them(validator: Any) -> None:
    leg = _view(
        "storing",
        "ObjectEvent",
        "OBSERVE",
        "storing",
        "in_progress",
        items=(_item(EGGS, "3", "box"),),
        details={"cold_chain": {"verdict": "in_range", "count": 0, "min": "1.5", "max": "3"}},
    )
    document = epcis_document([leg], base_url=BASE, created_at=NOW)
    assert _errors(validator, document) == []
    [event] = document["epcisBody"]["eventList"]
    assert event["sensorElementList"] == [
        {"sensorReport": [{"type": "Temperature", "uom": "CEL", "minValue": 1.5, "maxValue": 3}]}
    ]


def test_an_aggregation_names_the_pallet_and_its_batches_as_valid_epcis(validator: Any) -> None:
    packing = _view(
        "aggregating",
        "AggregationEvent",
        "ADD",
        "packing",
        "in_progress",
        items=(_item(EGGS, "3", "box"),),
        details={"sscc": "006141410000000018", "parent_id": "urn:epc:id:sscc:0614141.0000000001"},
    )
    document = epcis_document([packing], base_url=BASE, created_at=NOW)
    assert _errors(validator, document) == []
    [event] = document["epcisBody"]["eventList"]
    assert (event["type"], event["action"], event["bizStep"]) == ("AggregationEvent", "ADD", "packing")
    assert event["parentID"] == "urn:epc:id:sscc:0614141.0000000001"
    assert [e["quantity"] for e in event["childQuantityList"]] == [3]
    assert "quantityList" not in event


def test_a_transformation_lists_inputs_and_outputs(document: dict[str, Any]) -> None:
    event = _by_id(document, TRANSFORMING)
    assert "action" not in event and "quantityList" not in event
    assert (event["bizStep"], event["traceapp:kind"]) == ("commissioning", "transforming")  # no CBV step
    assert event["inputQuantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{GTIN}/10/{SPINACH}", "quantity": 45, "uom": "KGM"},
        {"epcClass": f"{BASE}/t/{EGGS}", "quantity": 30, "uom": "H87"},
    ]
    assert event["outputQuantityList"] == [
        {"epcClass": f"{BASE}/t/{MIX}", "quantity": 60.5, "uom": "KGM"},
        {"epcClass": f"{BASE}/t/{CRATES}", "quantity": 12, "uom": "XBX"},
    ]
    assert event["readPoint"] == event["bizLocation"] == {"id": f"{BASE}/locations/Central%20kitchen"}


def test_a_transformation_uses_gs1s_field_names(document: dict[str, Any]) -> None:
    def gs1_event(name: str) -> dict[str, Any]:
        example = json.loads((EPCIS_DIR / "examples" / name).read_text(encoding="utf-8"))
        return example["epcisBody"]["eventList"][0]

    ours = _by_id(document, TRANSFORMING)
    standard = {key for key in ours if ":" not in key}
    example = gs1_event("Example_9.6.4-TransformationEvent.jsonld")
    every_field = gs1_event("WithFullCombinationOfFields/transformation_event_all_possible_fields.jsonld")
    assert standard <= set(every_field) | {"recordTime"}  # recordTime: common to all event types
    assert standard & set(example) == {
        "eventID",
        "type",
        "eventTime",
        "eventTimeZoneOffset",
        "inputQuantityList",
        "bizStep",
        "disposition",
        "readPoint",
    }
    assert all(set(q) == set(example["inputQuantityList"][0]) for q in ours["inputQuantityList"])


def test_an_inspection_exports_its_tests_under_our_prefix_without_phone_numbers(
    document: dict[str, Any],
) -> None:
    event = _by_id(document, INSPECTING)
    assert (event["bizStep"], event["disposition"]) == ("inspecting", "conformant")
    assert event["traceapp:result"] == "accepted"
    [test] = event["traceapp:tests"]
    assert test["traceapp:method"] == "enzyme_inhibition" and test["traceapp:result"] == "negative"
    assert event["traceapp:brought_by"] == {"traceapp:name": "Zhao", "traceapp:vehicle": "京A12345"}


def test_an_inspection_of_a_batch_without_a_certificate_identifies_nothing(validator: Any) -> None:
    gate = _view(
        "inspecting",
        "ObjectEvent",
        "OBSERVE",
        "inspecting",
        "non_conformant",
        details={"result": "rejected", "certificate_status": "missing"},
    )
    document = epcis_document([gate], base_url=BASE, created_at=NOW)
    assert _errors(validator, document) == []
    assert document["epcisBody"]["eventList"][0]["epcList"] == []


def test_commissioning_adds_the_whole_batch(document: dict[str, Any]) -> None:
    event = document["epcisBody"]["eventList"][0]
    assert event["eventID"] == f"urn:uuid:{CERTIFICATE.id}"
    assert (event["action"], event["bizStep"], event["disposition"]) == ("ADD", "commissioning", "active")
    assert event["quantityList"] == [
        {"epcClass": f"https://id.gs1.org/01/{GTIN}/10/{SPINACH}", "quantity": 250, "uom": "KGM"}
    ]
    assert event["eventTime"] == "2026-11-20T06:30:00+08:00"


def test_views_read_model_rows() -> None:
    from traceapp.certificates.models import Certificate, Unit
    from traceapp.events.models import Event, EventItem, EventKind, ItemRole, TemperatureReading

    certificate = Certificate(
        id=uuid.uuid4(),
        trace_code=EGGS,
        gtin=None,
        quantity=Decimal(10),
        unit=Unit.BOX,
        issued_at=T0,
        org_id=PRODUCER,
    )
    row = Event(
        id=uuid.uuid4(),
        kind=EventKind.STORING,
        epcis_type="ObjectEvent",
        action="OBSERVE",
        biz_step="storing",
        disposition="in_progress",
        occurred_at=T0,
        tz_offset="+08:00",
        recorded_at=T0,
        location=None,
        org_id=PRODUCER,
        source_org_id=None,
        destination_org_id=None,
        carrier_org_id=None,
        corrects_id=None,
        correction_reason=None,
        details={},
    )
    item = EventItem(
        position=0, certificate_id=certificate.id, role=ItemRole.SUBJECT, quantity=Decimal(2), unit=Unit.BOX
    )
    view = EventView.of(
        row,
        items=[ItemView.of(item, certificate)],
        readings=[TemperatureReading(position=0, at=T0, celsius=Decimal("2.5"))],
    )
    assert (view.kind, view.items, view.readings) == (
        "storing",
        (ItemView(EGGS, None, Decimal(2), "box", "subject"),),
        (ReadingView(T0, Decimal("2.5")),),
    )
    assert commissioning_view(certificate).items == (ItemView(EGGS, None, Decimal(10), "box"),)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"tz_offset": "UTC+8"}, "zone offset"),
        ({"tz_offset": "+15:00"}, "zone offset"),
        ({"occurred_at": datetime(2026, 11, 21, 6, 30)}, "naive"),
        ({"items": (_item(EGGS, "1", "kg", gtin="09506000134353"),)}, "GTIN"),
        ({"items": (_item(EGGS, "1", "dozen"),)}, "unit"),
        ({"items": (_item(EGGS, "1", None),)}, "unit"),
    ],
)
def test_bad_data_is_refused(change: dict[str, Any], message: str) -> None:
    view = _view("storing", "ObjectEvent", "OBSERVE", "storing", "in_progress", **change)
    with pytest.raises(ValueError, match=message):
        epcis_document([view], base_url=BASE, created_at=NOW)
    with pytest.raises(ValueError, match="base URL"):
        epcis_document([], base_url="trace.example.cn", created_at=NOW)


def test_the_document_expands_as_json_ld_without_losing_a_key(document: dict[str, Any]) -> None:
    from pyld import jsonld  # a test extra: the check is never skipped for want of it

    context = json.loads((EPCIS_DIR / "epcis-context.jsonld").read_text(encoding="utf-8"))

    def loader(url: str, _options: Any = None) -> dict[str, Any]:
        assert url == EPCIS_CONTEXT, url  # offline: only GS1's context is ever fetched
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": context,
        }

    expanded = json.dumps(jsonld.expand(document, {"documentLoader": loader}))
    ours = {key.split(":", 1)[1] for key in re.findall(r'"(traceapp:[a-z_A-Z]+)"', json.dumps(document))}
    assert ours and all(f'"{BASE}/ns/{key}"' in expanded for key in ours)
    for iri in (
        "https://ref.gs1.org/cbv/BizStep-shipping",
        "https://ref.gs1.org/cbv/ER-incorrect_data",
        "https://ref.gs1.org/cbv/SDT-owning_party",
        "https://gs1.org/voc/Temperature",
        "https://ref.gs1.org/epcis/inputQuantityList",
        f"{BASE}/orgs/{CARRIER}",
    ):
        assert f'"{iri}"' in expanded, iri
