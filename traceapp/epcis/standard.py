"""EPCIS 2.0 as GS1 defines it: the JSON schema, the JSON-LD context, the event hash, and the
facts of an event that queries filter on. Pure: no database, no request.

GS1's artefacts (``EPCIS-JSON-Schema.json``, ``epcis-context.jsonld``) carry no open-source
licence, so we do not ship them: ``EPCIS_ARTEFACTS_DIR`` names the folder that holds them
(by default ``epcis/`` in the instance folder; ``traceapp epcis fetch-artefacts`` downloads
them from ref.gs1.org, where GS1 publishes them for implementers). JSON-LD processing is
offline: the only remote context ever resolved is GS1's, served from that folder; any other
``@context`` URL is refused, never fetched.

The context rule (``check_context``), for a document's ``@context`` and each event's own: GS1's
context URLs, plus small inline prefix maps (at most ``INLINE_CONTEXT_TERMS`` terms and
``INLINE_CONTEXT_BYTES`` bytes in all), whose terms are a prefix's IRI (a string) or a plain
``{"@id", "@type"}`` definition of strings (as GS1's rail example has). Keywords
(``@vocab``, ``@protected``, …), nested or scoped contexts and any other definition are
refused: expanding a context costs time under the hash generator's process-wide lock, so
only contexts of bounded cost are expanded at all.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any

import jsonschema_rs
from pyld import jsonld

#: The URLs GS1 publishes its EPCIS 2.0 context at (the examples use the first).
CONTEXT_URLS = frozenset(
    {
        "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
        "https://ref.gs1.org/standards/epcis/epcis-context.jsonld",
        "https://gs1.github.io/EPCIS/epcis-context.jsonld",
    }
)
CONTEXT_URL = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)
#: ``scheme:rest``: the schema leans on ``format: uri`` (bizStep, extension names, EPCs), which
#: jsonschema checks only with a URI package installed; this is the check it needs.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")
#: An inline @context is a small prefix map: at most this many terms and bytes (all together).
INLINE_CONTEXT_TERMS = 64
INLINE_CONTEXT_BYTES = 4096
#: The longest eventID, dimension value or identifier stored (the columns' length).
MAX_VALUE_LENGTH = 500
_CBV_PREFIXES = {
    "bizStep": ("https://ref.gs1.org/cbv/BizStep-", "urn:epcglobal:cbv:bizstep:"),
    "disposition": ("https://ref.gs1.org/cbv/Disp-", "urn:epcglobal:cbv:disp:"),
}


class InvalidDocument(Exception):
    """The document breaks the schema or JSON-LD; ``pointer`` names where (JSON pointer)."""

    def __init__(self, message: str, pointer: str = "/"):
        super().__init__(message)
        self.message, self.pointer = message, pointer


@dataclass
class Artefacts:
    """GS1's schema and context, read once per app from ``folder``."""

    folder: Path
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    #: The files, as GS1 names them in its repository.
    FILES = ("EPCIS-JSON-Schema.json", "epcis-context.jsonld")

    def missing(self) -> list[str]:
        """The files not in ``folder`` (empty: ready)."""
        return [name for name in self.FILES if not (self.folder / name).is_file()]

    @cached_property
    def context(self) -> dict[str, Any]:
        return json.loads((self.folder / "epcis-context.jsonld").read_text(encoding="utf-8"))

    @cached_property
    def validator(self) -> jsonschema_rs.Draft7Validator:
        schema = json.loads((self.folder / "EPCIS-JSON-Schema.json").read_text(encoding="utf-8"))
        return jsonschema_rs.Draft7Validator(
            schema, validate_formats=True, formats={"uri": lambda value: bool(_URI.match(value))}
        )

    def load_document(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        """pyld's document loader: GS1's context from the folder, nothing from the network."""
        if url not in CONTEXT_URLS:
            raise jsonld.JsonLdError(
                f"unknown remote context {url}",
                "jsonld.LoadDocumentError",
                code="loading remote context failed",
            )
        return {
            "contentType": "application/ld+json",
            "contextUrl": None,
            "documentUrl": url,
            "document": self.context,
        }

    def expand(self, document: Any) -> list[Any]:
        """JSON-LD expansion, offline."""
        return jsonld.expand(document, {"documentLoader": self.load_document})


def check_context(context: Any, pointer: str = "/@context") -> None:
    """The context rule (see the module's doc). Raises InvalidDocument naming ``pointer``."""
    items = context if isinstance(context, list) else [context]
    if not items:
        raise InvalidDocument("@context is empty: give GS1's EPCIS context URL.", pointer)
    terms = size = 0
    for item in items:
        if isinstance(item, str):
            if item not in CONTEXT_URLS:
                raise InvalidDocument(
                    f"@context: only GS1's EPCIS context ({CONTEXT_URL}) and inline prefixes are "
                    "accepted; other remote contexts are never fetched.",
                    pointer,
                )
            continue
        if not isinstance(item, dict):
            raise InvalidDocument("@context: each entry is GS1's context URL or a prefix map.", pointer)
        for term, definition in item.items():
            if not isinstance(term, str) or term.startswith("@") or not _plain_definition(definition):
                raise InvalidDocument(
                    f"@context: the term {str(term)[:60]!r} must map to an IRI (a string); keywords, "
                    "nested and scoped contexts are not accepted.",
                    pointer,
                )
        terms += len(item)
        size += len(json.dumps(item, ensure_ascii=False).encode())
    if terms > INLINE_CONTEXT_TERMS or size > INLINE_CONTEXT_BYTES:
        raise InvalidDocument(
            f"@context: an inline context holds at most {INLINE_CONTEXT_TERMS} terms and "
            f"{INLINE_CONTEXT_BYTES} bytes.",
            pointer,
        )


def _plain_definition(definition: Any) -> bool:
    if isinstance(definition, str):
        return True
    return (
        isinstance(definition, dict)
        and bool(definition)
        and set(definition) <= {"@id", "@type"}
        and all(isinstance(v, str) for v in definition.values())
    )


def validate_document(artefacts: Artefacts, document: Any) -> None:
    """Check an EPCISDocument / EPCISQueryDocument against GS1's schema, the context rule
    (the document's and each event's own) and JSON-LD. Raises InvalidDocument naming the
    first fault."""
    if not isinstance(document, dict) or document.get("type") not in ("EPCISDocument", "EPCISQueryDocument"):
        raise InvalidDocument("The body must be an EPCISDocument or an EPCISQueryDocument.", "/type")
    check_context(document.get("@context"))
    error = next(artefacts.validator.iter_errors(document), None)
    if error is not None:
        pointer = "/" + "/".join(str(p) for p in error.instance_path)
        raise InvalidDocument(f"Schema: {error.message[:300]}", pointer)
    for pointer, event in _located_events(document):
        if "@context" in event:
            check_context(event["@context"], f"{pointer}/@context")
        check_event(event, pointer)
    expand_checked(artefacts, {"@context": document["@context"]}, "/@context")


def expand_checked(artefacts: Artefacts, value: Any, pointer: str) -> list[Any]:
    """``artefacts.expand``, its JsonLdError as InvalidDocument naming ``pointer``."""
    try:
        return artefacts.expand(value)  # (our own loader: no lock needed, none held long)
    except jsonld.JsonLdError as exc:
        cause = exc
        while getattr(cause, "cause", None) is not None:
            cause = cause.cause
        code, details = getattr(cause, "code", None) or cause, getattr(cause, "details", None) or ""
        raise InvalidDocument(f"JSON-LD @context: {code}: {details}", pointer) from exc


def _located_events(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    body = document.get("epcisBody") or {}
    if document["type"] == "EPCISQueryDocument":
        base, events = (
            "/epcisBody/queryResults/resultsBody/eventList",
            (body.get("queryResults", {}).get("resultsBody", {}).get("eventList", [])),
        )
    else:
        base, events = "/epcisBody/eventList", body.get("eventList", [])
    return [(f"{base}/{i}", e) for i, e in enumerate(events) if isinstance(e, dict)]


def check_event(event: dict[str, Any], pointer: str) -> None:
    """What the schema lets through but the repository cannot store: a time outside the years
    1–9999 in UTC, a value longer than its column. Raises InvalidDocument naming the field."""
    try:
        facts = facts_of(event)
    except (ValueError, OverflowError, KeyError, TypeError):
        raise InvalidDocument(
            "eventTime must be a date and time with its offset, in the years 1 to 9999.",
            f"{pointer}/eventTime",
        ) from None
    for name, value in (
        ("eventID", event.get("eventID")),
        ("bizStep", facts.biz_step),
        ("disposition", facts.disposition),
        ("readPoint/id", facts.read_point),
        ("bizLocation/id", facts.biz_location),
    ):
        if isinstance(value, str) and len(value) > MAX_VALUE_LENGTH:
            raise InvalidDocument(
                f"{name} is longer than {MAX_VALUE_LENGTH} characters.", f"{pointer}/{name}"
            )
    for role, value in facts.identifiers:
        if len(value) > MAX_VALUE_LENGTH:
            raise InvalidDocument(
                f"An identifier ({role}) is longer than {MAX_VALUE_LENGTH} characters.", pointer
            )
    if not isinstance(facts.offset, str) or len(facts.offset) > 6:
        raise InvalidDocument("eventTimeZoneOffset must be like +08:00.", f"{pointer}/eventTimeZoneOffset")


def events_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The events of a validated document, each with the document's ``@context`` attached (an
    event's own context, if any, comes after it) so that it expands alone as it did inside."""
    body = document["epcisBody"]
    if document["type"] == "EPCISQueryDocument":
        events = body.get("queryResults", {}).get("resultsBody", {}).get("eventList", [])
    else:
        events = body.get("eventList", [])
    context = document["@context"]
    context = context if isinstance(context, list) else [context]
    out = []
    for event in events:
        own = event.get("@context")
        merged = context + ((own if isinstance(own, list) else [own]) if own is not None else [])
        out.append({"@context": merged, **{k: v for k, v in event.items() if k != "@context"}})
    return out


# -- the event hash ---------------------------------------------------------------------------

#: The hash generator keeps the namespace prefixes it read in a module-level dict and sets
#: pyld's global document loader: one document at a time, and ours restored after it.
_HASH_LOCK = threading.Lock()


def event_hashes(artefacts: Artefacts, events: list[dict[str, Any]]) -> list[str]:
    """GS1's event hash of each event (``ni:///sha-256;…?ver=CBV2.0``), by GS1's reference
    implementation (``epcis-event-hash-generator``). Where it fails on an event (it raises on
    some valid events), the hash is SHA-256 over the canonical JSON of the event's JSON-LD
    expansion without ``eventID``/``recordTime``, marked ``?ver=traceapp-expanded-1``."""
    out: list[str | None] = [None] * len(events)
    with _HASH_LOCK:
        import epcis_event_hash_generator  # noqa: F401  (its import sets pyld's loader: ours after it)

        jsonld.set_document_loader(artefacts.load_document)
        groups: dict[str, list[int]] = {}
        for index, event in enumerate(events):  # a document's events share its context: one call
            groups.setdefault(json.dumps(event["@context"], sort_keys=True), []).append(index)
        for indexes in groups.values():
            batch = _generated(events[indexes[0]]["@context"], [events[i] for i in indexes])
            for i, found in zip(indexes, batch or [None] * len(indexes), strict=True):
                out[i] = found
        for index, event in enumerate(events):
            if out[index] is None:  # the whole batch failed: event by event
                one = _generated(event["@context"], [event])
                out[index] = one[0] if one else None
    for index, event in enumerate(events):  # then our fallback (it takes the lock itself)
        if out[index] is None:
            out[index] = _expanded_hash(artefacts, event, index)
    return [h for h in out if h is not None]


def _generated(context: Any, events: list[dict[str, Any]]) -> list[str] | None:
    """GS1's generator over events of one context, or None where it fails."""
    from epcis_event_hash_generator import hash_generator, json_to_py

    json_to_py._namespaces.clear()
    # (a deep copy: the generator rewrites the values it reads in place)
    doc = copy.deepcopy({"@context": context, "epcisBody": {"eventList": [_hashable(e) for e in events]}})
    try:
        hashes = hash_generator.epcis_hashes_from_events(json_to_py.event_list_from_epcis_document_json(doc))
    except Exception:
        return None
    return hashes if len(hashes) == len(events) else None


def _hashable(event: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in ("@context", "eventID", "recordTime")}


def _expanded_hash(artefacts: Artefacts, event: dict[str, Any], index: int = 0) -> str:
    """Raises InvalidDocument (JSON-LD refuses the event)."""
    expanded = expand_checked(
        artefacts, {"@context": event["@context"], **_hashable(event)}, f"/epcisBody/eventList/{index}"
    )
    digest = hashlib.sha256(json.dumps(expanded, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"ni:///sha-256;{digest}?ver=traceapp-expanded-1"


# -- the facts queries filter on --------------------------------------------------------------


@dataclass(frozen=True)
class EventFacts:
    """What the repository indexes of one event."""

    event_type: str
    event_time: datetime
    offset: str
    action: str | None
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    identifiers: list[tuple[str, str]]  # (role, value)


def cbv_short(kind: str, value: str | None) -> str | None:
    """A CBV value as its bare word (``shipping``), whichever of its three spellings was sent;
    any other URI unchanged."""
    if value is None:
        return None
    for prefix in _CBV_PREFIXES.get(kind, ()):
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def parse_time(value: str) -> datetime:
    """An EPCIS date-time (with an offset or Z) as an aware UTC datetime. Raises ValueError
    (also for a time outside the years 1–9999 once in UTC)."""
    parsed = datetime.fromisoformat(value.replace("z", "Z"))
    if parsed.tzinfo is None:
        raise ValueError("a time zone offset is required")
    try:
        return parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the years 1 to 9999 in UTC") from None


def facts_of(event: dict[str, Any]) -> EventFacts:
    """The indexed facts of a (schema-valid) event."""
    ids: list[tuple[str, str]] = []
    for key, role in (
        ("epcList", "epc"),
        ("childEPCs", "child"),
        ("inputEPCList", "input"),
        ("outputEPCList", "output"),
    ):
        ids += [(role, v) for v in event.get(key) or [] if isinstance(v, str)]
    if isinstance(event.get("parentID"), str):
        ids.append(("parent", event["parentID"]))
    for key, role in (
        ("quantityList", "class"),
        ("childQuantityList", "class"),
        ("inputQuantityList", "input_class"),
        ("outputQuantityList", "output_class"),
    ):
        ids += [
            (role, q["epcClass"]) for q in event.get(key) or [] if isinstance(q, dict) and "epcClass" in q
        ]
    return EventFacts(
        event_type=event["type"],
        event_time=parse_time(event["eventTime"]),
        offset=event["eventTimeZoneOffset"],
        action=event.get("action"),
        biz_step=cbv_short("bizStep", event.get("bizStep")),
        disposition=cbv_short("disposition", event.get("disposition")),
        read_point=(event.get("readPoint") or {}).get("id"),
        biz_location=(event.get("bizLocation") or {}).get("id"),
        identifiers=list(dict.fromkeys(ids)),
    )
