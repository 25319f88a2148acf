"""The public page of a party: ``/orgs/{uuid}``, the URI our EPCIS documents give organisations.

Anyone may read it (it is what a partner's system dereferences from an EPCIS event): the
organisation's name, kind, region and GLN, nothing personal (no phone, address, e-mail or
users). HTML for people, no JavaScript; ``application/json`` or ``application/ld+json`` by
content negotiation gives a small JSON-LD record in the GS1 Web Vocabulary
(``gs1:Organization`` with ``gs1:globalLocationNumber``) and schema.org.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from traceapp import db, regions
from traceapp.errors import problem
from traceapp.i18n import current_lang
from traceapp.orgs.models import Organisation, OrgKind
from traceapp.throttle import RateLimited, throttle
from traceapp.urls import public_base_url

bp = Blueprint("party", __name__)

JSON_TYPES = ("application/ld+json", "application/json")

#: One organisation's kind, as its page names it.
KIND_NAMES = {
    OrgKind.PRODUCER: _l("Producer"),
    OrgKind.MARKET: _l("Market"),
    OrgKind.CARRIER: _l("Carrier"),
    OrgKind.PROCESSOR: _l("Processor"),
    OrgKind.RETAILER: _l("Retailer"),
    OrgKind.REGULATOR: _l("Regulator"),
}


def party_url(base_url: str, org_id: uuid.UUID) -> str:
    """The party's URI, as ``epcis.documents`` mints it."""
    return f"{base_url.rstrip('/')}/orgs/{org_id}"


def find_party(session: Session, org_id: uuid.UUID) -> Organisation | None:
    return session.get(Organisation, org_id)


def find_by_gln(session: Session, gln: str) -> Organisation | None:
    """The organisation whose GLN this is, or None."""
    return session.scalar(sa.select(Organisation).where(Organisation.gln == gln))


def party_record(org: Organisation, base_url: str) -> dict[str, Any]:
    """The JSON-LD record of a party: its URI, name, kind, region and GLN, nothing personal."""
    record: dict[str, Any] = {
        "@context": {
            "gs1": "https://gs1.org/voc/",
            "schema": "https://schema.org/",
            "traceapp": f"{base_url.rstrip('/')}/voc/",
        },
        "@id": party_url(base_url, org.id),
        "@type": ["gs1:Organization", "schema:Organization"],
        "gs1:organizationName": org.name,
        "schema:name": org.name,
        "traceapp:kind": org.kind.value,
    }
    if org.gln:
        record["gs1:globalLocationNumber"] = org.gln
        record["schema:globalLocationNumber"] = org.gln
    if org.region_code:
        record["schema:areaServed"] = {
            "@type": "schema:AdministrativeArea",
            "schema:identifier": org.region_code,
            "schema:name": regions.full_name(org.region_code) if regions.is_known(org.region_code) else "",
        }
    return record


def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(["text/html", *JSON_TYPES])
    return best in JSON_TYPES and request.accept_mimetypes[best] > 0


@bp.before_request
def _count_like_the_public_page() -> None:
    """Throttled per address as the other public pages are."""
    wait = throttle().hit_public(request.environ)
    if wait is not None:
        raise RateLimited(retry_after=wait)


@bp.get("/orgs/<uuid:org_id>")
def party_page(org_id: uuid.UUID) -> Response | tuple[str, int]:
    """A party's public page (HTML), or its JSON-LD record by content negotiation."""
    org = find_party(db.session(), org_id)
    as_json = wants_json()
    if org is None and as_json:
        answer = problem(404, _("Not found"), _("No organisation has this identifier."), slug="not-found")
    elif org is None:
        answer = Response(render_template("public/party.html", org=None), status=404)
    elif as_json:
        body = json.dumps(party_record(org, public_base_url()), ensure_ascii=False)
        answer = Response(body, mimetype=request.accept_mimetypes.best_match(JSON_TYPES))
    else:
        html = render_template("public/party.html", org=org, kind=KIND_NAMES[org.kind], region=_region(org))
        answer = Response(html)
    answer.headers["Vary"] = "Accept, Accept-Language"
    return answer


def _region(org: Organisation) -> str | None:
    if not org.region_code or not regions.is_known(org.region_code):
        return None
    opening, closing = ("（", "）") if current_lang() == "zh" else (" (", ")")
    return f"{regions.full_name(org.region_code)}{opening}{org.region_code}{closing}"
