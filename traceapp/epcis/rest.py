"""``/epcis``: the EPCIS 2.0 REST binding (capture, capture jobs, events, dimensions, discovery).

GS1 publishes this interface's OpenAPI document itself, so these views are plain Flask ones, not
part of our ``/api/v1`` OpenAPI document. Each view is glue: read the request, call one service
or query, answer JSON. Every answer carries ``GS1-EPCIS-Version``, ``GS1-CBV-Version`` and
``GS1-Extensions``; every error is problem+json with the binding's exception ``type``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, current_app, request, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException

from traceapp import db
from traceapp.api import require_token
from traceapp.auth import api_actor
from traceapp.db import utcnow
from traceapp.epcis import capture, documents, params, queries, standard
from traceapp.epcis.errors import CaptureLimitExceeded, NoSuchEvent, epcis_type_of
from traceapp.epcis.tasks import artefacts
from traceapp.errors import DomainError, UnsupportedMediaType, problem_body
from traceapp.inputs import parse_json, unstorable

bp = Blueprint("epcis", __name__, url_prefix="/epcis")
VERSIONS = {"GS1-EPCIS-Version": "2.0.0", "GS1-CBV-Version": "2.0.0", "GS1-Extensions": ""}
DISCOVERY = {
    **VERSIONS,
    "GS1-EPCIS-Min": "2.0.0",
    "GS1-EPCIS-Max": "2.0.0",
    "GS1-CBV-Min": "2.0.0",
    "GS1-CBV-Max": "2.0.0",
    "GS1-EPC-Format": "Always_GS1_Digital_Link",
    "GS1-Vendor-Version": "traceapp",
}
JSON_TYPES = ("application/json", "application/ld+json")


def limits() -> capture.Limits:
    config = current_app.config
    return capture.Limits(
        max_events=int(config["EPCIS_CAPTURE_MAX_EVENTS"]),
        inline_events=int(config["EPCIS_CAPTURE_INLINE_EVENTS"]),
        max_attempts=int(config["JOBS_RETRIES"]) + 1,
    )


def _json(value: Any, status: int = 200, **headers: str) -> Response:
    body = json.dumps(value, ensure_ascii=False)
    return Response(
        body,
        status=status,
        mimetype="application/ld+json" if "@context" in value else "application/json",
        headers=headers,
    )


@bp.before_request
def _token_with_scope() -> None:
    # OPTIONS is discovery: what the server supports, nothing of anyone's data.
    if request.method != "OPTIONS":
        require_token()


@bp.after_request
def _versions(response: Response) -> Response:
    for name, value in VERSIONS.items():
        response.headers.setdefault(name, value)
    return response


@bp.errorhandler(DomainError)
@bp.errorhandler(HTTPException)
def _problem(exc: Exception) -> Response:
    """Our problems, with the binding's exception type and the field at fault."""
    if isinstance(exc, DomainError):
        status, title, detail, errors = exc.status, str(exc.title), exc.detail, exc.errors
    else:
        assert isinstance(exc, HTTPException)
        status, title, detail, errors = exc.code or 500, exc.name, exc.description, None
    body = problem_body(status, title, detail, slug="epcis", errors=errors)
    body["type"] = epcis_type_of(exc, status)
    response = Response(
        json.dumps(body, ensure_ascii=False), status=status, mimetype="application/problem+json"
    )
    if status == 413:
        response.headers.update(_capture_limits())
    return response


def _capture_limits() -> dict[str, str]:
    config = current_app.config
    return {
        "GS1-EPCIS-Capture-Limit": str(config["EPCIS_CAPTURE_MAX_EVENTS"]),
        "GS1-EPCIS-Capture-File-Size-Limit": str(config["EPCIS_CAPTURE_MAX_BYTES"]),
        "GS1-Capture-Error-Behaviour": "rollback, proceed",
    }


def _body() -> Any:
    """The JSON body of a capture, within the size limit. Raises UnsupportedMediaType,
    CaptureLimitExceeded, MalformedBody."""
    if request.mimetype not in JSON_TYPES:
        raise UnsupportedMediaType(_("Send the EPCIS document as application/ld+json or application/json."))
    limit = int(current_app.config["EPCIS_CAPTURE_MAX_BYTES"])
    if (request.content_length or 0) > limit:
        raise CaptureLimitExceeded(_("A capture may be at most %(limit)d bytes.", limit=limit))
    return parse_json(request.get_data(cache=True))


class Discoverable(MethodView):
    """A view that answers ``OPTIONS`` with the binding's discovery headers (204)."""

    extra: dict[str, str] = {}

    def options(self, **_kwargs: Any) -> Response:
        """Discover the settings of this resource."""
        allowed = ", ".join(sorted(m.upper() for m in self.methods or ()))
        return Response(status=204, headers={**DISCOVERY, **type(self).extra_headers(), "Allow": allowed})

    @classmethod
    def extra_headers(cls) -> dict[str, str]:
        return {}


class Root(Discoverable):
    def get(self) -> Response:
        """The top-level resources of the repository."""
        api_actor()
        return _json(
            [
                "capture",
                "events",
                "eventTypes",
                "epcs",
                "bizSteps",
                "bizLocations",
                "readPoints",
                "dispositions",
            ]
        )


class Captures(Discoverable):
    @classmethod
    def extra_headers(cls) -> dict[str, str]:
        return _capture_limits()

    def post(self) -> Response:
        """Capture an EPCISDocument (202 with the capture job's URL)."""
        actor = api_actor()
        document = _body()
        behaviour = request.headers.get("GS1-Capture-Error-Behaviour", "rollback").strip().lower()
        # Checked and hashed before the write transaction opens: the lock is held to store only.
        prepared = capture.prepare_capture(
            actor, document=document, behaviour=behaviour, artefacts=artefacts(), limits=limits()
        )
        with db.transaction() as session:
            job = capture.start_capture(
                session, actor, prepared=prepared, artefacts=artefacts(), limits=limits()
            )
            answer = documents.capture_job(job)
        location = url_for("epcis.capture_job", capture_id=answer["captureID"])
        return _json(answer, 202, Location=location)

    def get(self) -> Response:
        """The organisation's latest capture jobs."""
        actor = api_actor()
        per_page = params.capture_page({name: request.args.getlist(name) for name in request.args})
        rows = queries.list_captures(db.session(), actor, limit=per_page)
        return _json([documents.capture_job(c) for c in rows])


class CaptureJob(Discoverable):
    def get(self, capture_id: str) -> Response:
        """One capture job: running, success, errors."""
        actor = api_actor()
        return _json(documents.capture_job(capture.get_capture(db.session(), actor, capture_id)))


class Events(Discoverable):
    def get(self) -> Response:
        """Events that match the standard query parameters, a page at a time."""
        return _query_answer({})

    def post(self) -> Response:
        """Capture a single event (201 with the event, 200 for a replay)."""
        actor = api_actor()
        event = _body()
        prepared = capture.prepare_single_event(actor, event=event, artefacts=artefacts(), limits=limits())
        with db.transaction() as session:
            row, replay = capture.capture_single_event(
                session, actor, prepared=prepared, artefacts=artefacts()
            )
            answer = documents.stored_event(row)
        location = url_for("epcis.event", event_id=answer["eventID"])
        return _json(answer, 200 if replay else 201, Location=location)


class FilteredEvents(Discoverable):
    def get(self, **fixed: Any) -> Response:
        """The events of one value of a dimension, with the standard query parameters."""
        return _query_answer(fixed_filters(fixed))


def fixed_filters(fixed: dict[str, Any]) -> dict[str, Any]:
    """Path filters (``/bizSteps/{bizStep}/events``) as EventQuery fields."""
    names = {
        "event_type": "event_types",
        "biz_step": "biz_steps",
        "disposition": "dispositions",
        "read_point": "read_points",
        "biz_location": "biz_locations",
    }
    if any(unstorable(str(v)) for v in fixed.values()):  # PostgreSQL refuses a NUL to compare
        raise NoSuchEvent()
    out = {names[k]: (v,) for k, v in fixed.items() if k in names}
    if "epc" in fixed:
        out["matches"] = (("MATCH_anyEPC", (fixed["epc"],)),)
    if fixed.get("event_type") and fixed["event_type"] not in standard.EVENT_TYPES:
        raise NoSuchEvent(_("No such event type."))
    return out


def _query_answer(fixed: dict[str, Any]) -> Response:
    actor = api_actor()
    secret = str(current_app.config["SECRET_KEY"])
    args = {name: request.args.getlist(name) for name in request.args}
    query = params.parse(args, secret=secret, fixed=fixed, org=str(actor.org_id))
    rows, more = queries.find_events(db.session(), actor, query)
    headers: dict[str, str] = {}
    if more:
        last = rows[-1]
        token = params.next_page_token(
            query, (getattr(last, query.order_by).isoformat(), last.id), secret=secret, org=str(actor.org_id)
        )
        given = [(k, v) for k, vs in args.items() if k != "nextPageToken" for v in vs]
        headers["Link"] = f'<{request.base_url}?{urlencode([*given, ("nextPageToken", token)])}>; rel="next"'
    return _json(documents.query_document(rows, created_at=utcnow()), **headers)


class Event(Discoverable):
    def get(self, event_id: str) -> Response:
        """The event of this eventID (URL-encoded) the caller sees: its organisation's one; for
        a regulator, each organisation's copy."""
        actor = api_actor()
        rows = queries.get_event(db.session(), actor, event_id)
        return _json(documents.query_document(rows, created_at=utcnow()))


class EventTypes(Discoverable):
    def get(self) -> Response:
        """The event types of EPCIS 2.0."""
        api_actor()
        return _json(list(standard.EVENT_TYPES))


class Dimension(Discoverable):
    def get(self, dimension: str) -> Response:
        """The values of a dimension (bizSteps, …) among the events the caller sees."""
        actor = api_actor()
        return _json(queries.dimension_values(db.session(), actor, dimension))


class Member(Discoverable):
    def get(self, **_value: Any) -> Response:
        """The sub-resources of one value of a dimension."""
        api_actor()
        return _json(["events"])


bp.add_url_rule("/", view_func=Root.as_view("root"))
bp.add_url_rule("/capture", view_func=Captures.as_view("captures"))
bp.add_url_rule("/capture/<capture_id>", view_func=CaptureJob.as_view("capture_job"))
bp.add_url_rule("/events", view_func=Events.as_view("events"))
bp.add_url_rule("/events/<path:event_id>", view_func=Event.as_view("event"))
bp.add_url_rule("/eventTypes", view_func=EventTypes.as_view("event_types"))
bp.add_url_rule("/eventTypes/<event_type>", view_func=Member.as_view("event_type"))
bp.add_url_rule("/eventTypes/<event_type>/events", view_func=FilteredEvents.as_view("event_type_events"))
for _dimension, _name in (
    ("epcs", "epc"),
    ("bizSteps", "biz_step"),
    ("dispositions", "disposition"),
    ("readPoints", "read_point"),
    ("bizLocations", "biz_location"),
):
    bp.add_url_rule(
        f"/{_dimension}", view_func=Dimension.as_view(_dimension), defaults={"dimension": _dimension}
    )
    bp.add_url_rule(f"/{_dimension}/<path:{_name}>", view_func=Member.as_view(f"{_dimension}_one"))
    bp.add_url_rule(
        f"/{_dimension}/<path:{_name}>/events", view_func=FilteredEvents.as_view(f"{_dimension}_events")
    )
