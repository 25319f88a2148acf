"""The resolver's answers: Digital Link URIs under our host, ``/.well-known/gs1resolver``, the
product page (``gs1:pip``) and a batch's status document (``gs1:recallStatus``).

Public like the consumer page, and throttled like it: ``/t/...`` is counted by the front layer
(``public.stored_wsgi``), the other paths here count against the same limit.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response as BaseResponse

from traceapp import db, gs1
from traceapp.errors import FieldError, problem
from traceapp.events.pallets import find_pallet
from traceapp.orgs.party import find_by_gln, party_url
from traceapp.public.queries import load_facts, present
from traceapp.resolver import linktypes
from traceapp.resolver.links import (
    LINKSET_TYPE,
    PAGE_LANGUAGES,
    Link,
    batch_links,
    choose,
    description,
    link_header,
    linkset,
    party_links,
    product_links,
)
from traceapp.resolver.linktypes import DEFAULT, PIP
from traceapp.resolver.lookup import find_batch, find_product
from traceapp.throttle import RateLimited, throttle
from traceapp.urls import public_base_url

bp = Blueprint("resolver", __name__)

#: Primary keys we resolve, and those we read but hold nothing for.
#: GTINs of our batches; SSCCs of the pallets we allocated; GLNs of the organisations (414 a
#: location, 417 a party: for us both are the organisation). GRAIs (8003) name returnable
#: assets (crates, pallets owned for reuse), of which we track none.
RESOLVED_KEYS = ("01", "00", "414", "417")
UNHELD_KEYS = ("8003",)
#: Why a Digital Link cannot be read, in the reader's language (``gs1.REASONS`` is English).
REASON_TEXTS = {
    "bad_uri": _l("This is not a well-formed web address."),
    "unknown_url": _l("This web address is not a GS1 Digital Link."),
    "bad_dl_path": _l("The Digital Link path is malformed: /01/{GTIN}, then 22, 10, 21 in that order."),
    "qualifier_in_query": _l("A Digital Link carries AI 22, 10 or 21 in its path, not its query."),
    "not_dl_attribute": _l("This Application Identifier may not be a Digital Link data attribute."),
    "unsupported_ai": _l("The Digital Link holds an Application Identifier that GS1 does not define."),
    "bad_ai_value": _l("This value has the wrong length or characters."),
    "bad_gtin_check_digit": _l("The check digit is wrong."),
    "bad_check_digit": _l("The check digit is wrong."),
    "bad_date": _l("This date (YYMMDD) is not a real date."),
    "bad_ai_content": _l(
        "This value breaks a rule of its Application Identifier (a code list, range or format)."
    ),
    "duplicate_ai": _l("This Application Identifier appears twice."),
    "missing_ai": _l("An Application Identifier is present without the one it must go with."),
    "conflicting_ais": _l("Two Application Identifiers that may not go together are present."),
}
#: Reasons that lie in the value of the pair that failed (else in the path's structure).
VALUE_REASONS = (
    "bad_ai_value",
    "bad_gtin_check_digit",
    "bad_check_digit",
    "bad_date",
    "bad_ai_content",
    "unsupported_ai",
)
_KEY_LENGTHS = {"00": 18, "414": 13, "417": 13}
_DESCRIBED_BY = '</.well-known/gs1resolver>; rel="describedby"; type="application/json"'


@bp.before_request
def _count_like_the_public_page() -> None:
    if request.path[:3] not in ("/t/", "/T/"):  # those the front layer counts
        wait = throttle().hit_public(request.environ)
        if wait is not None:
            raise RateLimited(retry_after=wait)


@bp.after_request
def _always_a_link_header(response: Response) -> Response:
    """Every answer has a ``Link`` header (a 429, say): at least where the resolver is described."""
    response.headers.setdefault("Link", _DESCRIBED_BY)
    return response


def _reason(code: str) -> str:
    text = REASON_TEXTS.get(code)
    return str(text) if text else gs1.REASONS.get(code, code)


def _problem(status: int, title: str, detail: str, errors: list[FieldError] | None = None) -> Response:
    response = problem(status, title, detail, slug=f"http-{status}", errors=errors)
    response.headers["Link"] = _DESCRIBED_BY
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _raw_path() -> str:
    """The path as the client sent it (still percent-encoded), after the app's root."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    path = raw.split("?", 1)[0] if raw else quote(request.path, safe="/%")
    root = request.script_root
    return path[len(root) :] if root and path.startswith(root) else path


def _part_at_fault(path: str, query: str, error: gs1.GS1Error) -> str:
    """The part of a Digital Link that makes it unreadable, as a field (a JSON pointer): ``/10``
    for the lot (an AI in the path), ``/query/17`` for a query attribute, ``/`` for the path as a
    whole (qualifiers out of order, a stray segment), ``/query`` for the query as a whole."""
    segments = path.strip("/").split("/")
    prefix = "http://localhost"
    for k in range(0, len(segments) - 1, 2):
        prefix += f"/{segments[k]}/{segments[k + 1]}"
        try:
            gs1.parse_digital_link(prefix)
        except gs1.GS1Error as failed:
            if failed.reason_code in VALUE_REASONS:
                return f"/{segments[k]}"
            return "/"
    if len(segments) % 2:
        return "/"
    for parameter in query.split("&"):
        ai = parameter.partition("=")[0]
        try:
            gs1.parse_digital_link(f"{prefix}?{parameter}")
        except gs1.GS1Error:
            return f"/query/{ai}"
    return "/query" if error.reason_code in ("duplicate_ai", "qualifier_in_query") else "/"


def _bad_link(path: str, query: str, error: gs1.GS1Error) -> Response:
    field = _part_at_fault(path, query, error)
    message = _reason(error.reason_code)
    return _problem(400, _("Not a valid GS1 Digital Link"), message, [FieldError(field, message)])


@bp.get("/01/<path:rest>")
def gtin(rest: str) -> Response | BaseResponse:
    """A GTIN, its batch (``/10/``), CPV and serial: the batch's links, else the product's."""
    path, query = _raw_path(), request.query_string.decode("latin-1")
    try:
        values = dict(gs1.parse_digital_link(f"http://localhost{path}" + (f"?{query}" if query else "")))
    except gs1.GS1Error as error:
        return _bad_link(path, query, error)
    base = public_base_url()
    gtin14 = values["01"]
    certificate = find_batch(db.session(), gtin14, values["10"]) if "10" in values else None
    if certificate is not None:
        links = batch_links(base, gtin14, certificate)
        anchor = gs1.digital_link(base, gtin14, lot=values["10"])
        return _answer(anchor, links, description(certificate, certificate.product_name))
    # No lot, or a lot we do not know: the product's links (the standard's walk up the path).
    product = find_product(db.session(), gtin14)
    if product is None:
        return _problem(404, _("Not found"), _("No product of ours has this GTIN."))
    links, anchor, item = product_links(base, gtin14), gs1.digital_link(base, gtin14), product.name
    return _answer(anchor, links, item)


def _wants_linkset(asked: str | None) -> bool:
    if asked is not None:
        return asked in linktypes.ALL
    best = request.accept_mimetypes.best_match(["text/html", LINKSET_TYPE, "application/json"])
    return best in (LINKSET_TYPE, "application/json") and request.accept_mimetypes[best] > 0


def _answer(anchor: str, links: list[Link], item: str) -> Response | BaseResponse:
    asked = request.args.get("linkType")
    if _wants_linkset(asked):
        response = Response(
            _json(linkset(anchor, links, item)), mimetype=LINKSET_TYPE, headers={"Cache-Control": "no-cache"}
        )
    else:
        response = Response(status=307, headers={"Location": choose(links, asked).href})
    response.headers["Link"] = link_header(anchor, links)
    response.headers["Vary"] = "Accept, Accept-Language"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Link, Location"
    return response


def _json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False)


@bp.get("/<any('00', '414', '417', '8003'):key>/<path:rest>")
def unheld_key(key: str, rest: str) -> Response:
    """SSCC, GLN and GRAI: read and checked; an SSCC of our pallets and the GLN of an
    organisation resolve (its page), a GRAI never does (we track no returnable assets).

    Read by ``gs1.parse_digital_link`` where it knows the key; where it knows only GTINs
    (``unknown_url``), the key's length and check digit are checked here.
    """
    path, query = _raw_path(), request.query_string.decode("latin-1")
    try:
        values = dict(gs1.parse_digital_link(f"http://localhost{path}" + (f"?{query}" if query else "")))
    except gs1.GS1Error as error:
        if error.reason_code != "unknown_url":
            return _bad_link(path, query, error)
        if not _key_is_valid(key, rest.split("/", 1)[0]):
            message = _reason("bad_ai_value")
            return _problem(400, _("Not a valid GS1 Digital Link"), message, [FieldError(f"/{key}", message)])
        values = {}
    if key == "00" and "00" in values:  # a pallet we allocated: its page lists its cases
        pallet = find_pallet(db.session(), values["00"])
        if pallet is not None:
            page = f"{public_base_url()}/p/{values['00']}"
            found = [
                Link(DEFAULT, page, "text/html", PAGE_LANGUAGES),
                Link(PIP, page, "text/html", PAGE_LANGUAGES),
            ]
            return _answer(
                f"{public_base_url()}/00/{values['00']}", found, _("Pallet %(sscc)s", sscc=values["00"])
            )
    if key in ("414", "417") and key in values:  # an organisation's GLN: its party page
        org = find_by_gln(db.session(), values[key])
        if org is not None:
            page = party_url(public_base_url(), org.id)
            return _answer(f"{public_base_url()}/{key}/{values[key]}", party_links(page), org.name)
    if key == "8003":
        detail = _("We track no returnable assets (GRAI, AI 8003): nothing here has this identifier.")
        return _problem(404, _("Not found"), detail)
    return _problem(404, _("Not found"), _("Nothing we hold has this GS1 identifier."))


def _key_is_valid(key: str, value: str) -> bool:
    digits = value[:14] if key == "8003" else value
    length = 14 if key == "8003" else _KEY_LENGTHS[key]
    if not (len(digits) == length and digits.isascii() and digits.isdigit()):
        return False
    body = digits[1:] if key == "8003" else digits  # a GRAI starts with a filler 0
    if key == "8003" and (digits[0] != "0" or len(value) > 30):
        return False
    return gs1.gtin_check_digit(body[:-1]) == int(body[-1])


@bp.get("/.well-known/gs1resolver")
def description_file() -> Response:
    """The resolver's description file (GS1-Conformant Resolver Standard, section 4)."""
    base = public_base_url()
    document = {
        "name": _("traceapp trace code resolver"),
        "resolverRoot": base,
        "supportedPrimaryKeys": list(RESOLVED_KEYS),
        "supportedLinkType": [{"namespace": linktypes.NAMESPACE, "prefix": linktypes.PREFIX}],
        "linkTypeDefaultCanBeLinkset": False,
    }
    response = jsonify(document)
    response.headers["Link"] = f'<{base}/.well-known/gs1resolver>; rel="self"; type="application/json"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/products/<gtin>")
def product_page(gtin: str) -> Response | tuple[str, int]:
    """The product information page (``gs1:pip``) of a GTIN: what every batch's page shows of it."""
    gtin14 = gtin.zfill(14) if gs1.is_valid_gtin(gtin) else None
    product = find_product(db.session(), gtin14) if gtin14 else None
    if product is None:
        html = render_template("public/not_found.html", typed=gtin, mistake=None)
        return Response(html, status=404, headers={"Link": _DESCRIBED_BY})
    base = public_base_url()
    anchor = gs1.digital_link(base, gtin14)
    response = Response(render_template("resolver/product.html", product=product))
    response.headers["Link"] = link_header(anchor, product_links(base, gtin14))
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    return response


@bp.get("/t/<code>/status.json")
def batch_status(code: str) -> Response:
    """The recall and revocation state of a batch (``gs1:recallStatus``), as its page shows it."""
    facts = load_facts(db.session(), code)
    if facts is None:
        return _problem(404, _("Not found"), _("No certificate has this trace code."))
    page = present(facts)
    recall = page.recall
    document: dict[str, Any] = {
        "trace_code": page.trace_code,
        "status": page.status,
        "revoked": page.revoked_at is not None,
        "revoked_at": page.revoked_at.isoformat() if page.revoked_at else None,
        "revoke_reason": page.revoke_reason,
        "replaced_by": page.replacement[0] if page.replacement else None,
        "recalled": recall is not None,
        "recall": {
            "opened_at": recall.opened_at.isoformat(),
            "reason": recall.reason,
            "instructions": recall.instructions,
        }
        if recall
        else None,
    }
    response = jsonify(document)
    response.headers["Link"] = f'<{public_base_url()}/t/{page.trace_code}>; rel="describes"; type="text/html"'
    response.headers["Cache-Control"] = "public, max-age=0, must-revalidate"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response
