"""The standard query parameters of ``GET /epcis/events``, read into a ``EventQuery``. Pure.

Lists are ``|``-separated (the binding's convention; a repeated parameter adds values too).
An unknown parameter, a repeated single-valued one or a bad value raises
QueryParameterProblem naming it: silently dropping a filter would answer a different question.
``nextPageToken`` is sealed (Fernet under the app's key, ``traceapp.sealed``) and carries the
query it pages through and the caller's organisation, so it can be neither forged, nor read
(the row key it holds is no one's to learn), nor moved onto another query or organisation.
A path's own filter (``/bizSteps/shipping/events``) may not be given again in the query: a
parameter never widens what the path names.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from traceapp import sealed
from traceapp.epcis import standard
from traceapp.epcis.errors import QueryParameterProblem
from traceapp.inputs import unstorable

DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 1000
LISTS = {
    "eventType": "event_types",
    "EQ_action": "actions",
    "EQ_bizStep": "biz_steps",
    "EQ_disposition": "dispositions",
    "EQ_readPoint": "read_points",
    "EQ_bizLocation": "biz_locations",
    "EQ_eventID": "event_ids",
}
#: MATCH_ parameter → the identifier roles it looks in (EPCIS 2.0 §8.2.7.1).
MATCHES = {
    "MATCH_epc": ("epc", "child"),
    "MATCH_parentID": ("parent",),
    "MATCH_inputEPC": ("input",),
    "MATCH_outputEPC": ("output",),
    "MATCH_anyEPC": ("epc", "child", "parent", "input", "output"),
    "MATCH_epcClass": ("class",),
    "MATCH_inputEPCClass": ("input_class",),
    "MATCH_outputEPCClass": ("output_class",),
    "MATCH_anyEPCClass": ("class", "input_class", "output_class"),
}
TIMES = {
    "GE_eventTime": "ge_event_time",
    "LT_eventTime": "lt_event_time",
    "GE_recordTime": "ge_record_time",
    "LT_recordTime": "lt_record_time",
}
SINGLE = {"orderBy", "orderDirection", "perPage", "nextPageToken", *TIMES}
ORDER_BY = {"eventTime": "event_time", "recordTime": "record_time"}
#: The query parameter that would repeat a path's filter (``fixed_filters``' fields).
_FIXED_PARAMETERS = {
    "event_types": "eventType",
    "biz_steps": "EQ_bizStep",
    "dispositions": "EQ_disposition",
    "read_points": "EQ_readPoint",
    "biz_locations": "EQ_bizLocation",
}


@dataclass(frozen=True)
class EventQuery:
    """A SimpleEventQuery's filters, order and page."""

    event_types: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    biz_steps: tuple[str, ...] = ()
    dispositions: tuple[str, ...] = ()
    read_points: tuple[str, ...] = ()
    biz_locations: tuple[str, ...] = ()
    event_ids: tuple[str, ...] = ()
    matches: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (parameter, values)
    ge_event_time: datetime | None = None
    lt_event_time: datetime | None = None
    ge_record_time: datetime | None = None
    lt_record_time: datetime | None = None
    order_by: str = "event_time"
    descending: bool = True
    per_page: int = DEFAULT_PER_PAGE
    after: tuple[str, int] | None = field(default=None, compare=False)  # (sort value, pk)


def parse(
    args: Mapping[str, list[str]], *, secret: str, org: str, fixed: dict[str, Any] | None = None
) -> EventQuery:
    """Read the query string (name → its values) into an EventQuery; ``fixed`` are filters
    the path sets (``/bizSteps/{bizStep}/events``); ``org``: the caller's organisation (a
    nextPageToken is its alone). Raises QueryParameterProblem."""
    values: dict[str, Any] = dict(fixed or {})
    for key in fixed or {}:
        name = _FIXED_PARAMETERS.get(key)
        if name in args:
            raise QueryParameterProblem(
                _("The path already sets %(name)s; leave it out of the query.", name=name), field=name
            )
    for name, given in args.items():
        if name in SINGLE and len(given) > 1:
            raise QueryParameterProblem(_("%(name)s may be given once.", name=name), field=name)
        if name in LISTS:
            values[LISTS[name]] = tuple(values.get(LISTS[name], ())) + _split(name, given)
        elif name in MATCHES:
            values.setdefault("matches", ())
            values["matches"] += ((name, _split(name, given)),)
        elif name in TIMES:
            values[TIMES[name]] = _time(name, given[0])
        elif name not in SINGLE:
            raise QueryParameterProblem(_("Unknown query parameter %(name)s.", name=name), field=name)
    query = EventQuery(**_normalised(values), **_order(args), per_page=_per_page(args))
    token = args.get("nextPageToken")
    return _resume(query, token[0], secret, org) if token else query


def _split(name: str, given: list[str]) -> tuple[str, ...]:
    out = tuple(v.strip() for value in given for v in value.split("|"))
    if not out or any(not v for v in out):
        raise QueryParameterProblem(_("%(name)s has an empty value.", name=name), field=name)
    if any(unstorable(v) for v in out):  # PostgreSQL refuses a NUL even in a comparison
        raise QueryParameterProblem(
            _("Text may not contain a NUL character or a lone surrogate."), field=name
        )
    if any(len(v) > standard.MAX_VALUE_LENGTH for v in out):
        raise QueryParameterProblem(
            _(
                "A value of %(name)s is longer than %(max)d characters.",
                name=name,
                max=standard.MAX_VALUE_LENGTH,
            ),
            field=name,
        )
    if name == "eventType" and any(v not in standard.EVENT_TYPES for v in out):
        raise QueryParameterProblem(_("Unknown event type in %(name)s.", name=name), field=name)
    if name == "EQ_action" and any(v not in ("ADD", "OBSERVE", "DELETE") for v in out):
        raise QueryParameterProblem(_("EQ_action takes ADD, OBSERVE or DELETE."), field=name)
    return out


def _normalised(values: dict[str, Any]) -> dict[str, Any]:
    for key, kind in (("biz_steps", "bizStep"), ("dispositions", "disposition")):
        if key in values:
            values[key] = tuple(standard.cbv_short(kind, v) for v in values[key])
    return values


def _time(name: str, value: str) -> datetime:
    try:
        return standard.parse_time(value)
    except (ValueError, OverflowError):
        raise QueryParameterProblem(
            _("%(name)s must be a date and time with its offset (2026-11-21T08:00:00+08:00).", name=name),
            field=name,
        ) from None


def _order(args: Mapping[str, list[str]]) -> dict[str, Any]:
    order_by = (args.get("orderBy") or ["eventTime"])[0]
    direction = (args.get("orderDirection") or ["DESC"])[0]
    if order_by not in ORDER_BY:
        raise QueryParameterProblem(_("orderBy takes eventTime or recordTime."), field="orderBy")
    if direction not in ("ASC", "DESC"):
        raise QueryParameterProblem(_("orderDirection takes ASC or DESC."), field="orderDirection")
    return {"order_by": ORDER_BY[order_by], "descending": direction == "DESC"}


def _per_page(args: Mapping[str, list[str]]) -> int:
    given = (args.get("perPage") or [str(DEFAULT_PER_PAGE)])[0]
    # ASCII digits only: str.isdigit() also takes "²" (int() refuses it) and "１０".
    if not (given.isascii() and given.isdigit()) or not 1 <= int(given) <= MAX_PER_PAGE:
        raise QueryParameterProblem(
            _("perPage takes a whole number from 1 to %(max)d.", max=MAX_PER_PAGE), field="perPage"
        )
    return int(given)


def capture_page(args: Mapping[str, list[str]]) -> int:
    """``GET /capture``: its only parameter, perPage. Raises QueryParameterProblem."""
    for name in args:
        if name != "perPage":
            raise QueryParameterProblem(_("Unknown query parameter %(name)s.", name=name), field=name)
    if len(args.get("perPage", [])) > 1:
        raise QueryParameterProblem(_("%(name)s may be given once.", name="perPage"), field="perPage")
    return _per_page(args)


def _fingerprint(query: EventQuery) -> dict[str, Any]:
    data = asdict(replace(query, after=None, per_page=0))
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in data.items()}


def next_page_token(query: EventQuery, after: tuple[str, int], *, secret: str, org: str) -> str:
    """The sealed token of the page after ``after`` (the last row's sort value and key), for
    the organisation ``org`` alone."""
    payload = json.dumps({"q": _fingerprint(query), "a": list(after), "o": org})
    return sealed.seal(_keys(secret), payload).removeprefix(sealed.PREFIX)


def _keys(secret: str) -> list[str]:
    # A key of its own (HKDF over it): a page token never opens as, nor is, a sealed secret.
    return [f"{secret}\x00epcis-next-page"]


def _resume(query: EventQuery, token: str, secret: str, org: str) -> EventQuery:
    try:
        data = json.loads(sealed.unseal(_keys(secret), sealed.PREFIX + token))
        if not isinstance(data, dict) or data.get("o") != org:
            raise ValueError("another organisation's token")
    except ValueError:  # (sealed.Unsealable is one)
        raise QueryParameterProblem(
            _("nextPageToken is not one this server gave."), field="nextPageToken"
        ) from None
    if data.get("q") != _json_round_trip(_fingerprint(query)):
        raise QueryParameterProblem(
            _("nextPageToken belongs to a query with other parameters; send the same ones."),
            field="nextPageToken",
        )
    value, pk = data["a"]
    return replace(query, after=(str(value), int(pk)))


def _json_round_trip(value: Any) -> Any:
    return json.loads(json.dumps(value))
