"""What an API token may be used for: its scopes, and the one table of API endpoint → scope.

A token carries a set of scopes; every API request names the scope its endpoint needs here
(``ENDPOINT_SCOPES``, keyed by ``METHOD rule``) and a token without it gets 403 naming the
scope. The permission table (``permissions.py``) still decides what the token's owner may do:
a scope only narrows a token, it never grants more than its owner has.

Pure: no database, no request.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping


class Scope(enum.Enum):
    """What a token may be used for."""

    READ = "read"  # every read: certificates, codes, events, trace, recalls, exports, tokens, audit
    EVENTS = "events"  # record events (hops, gate checks, processing, corrections, hand-overs, disputes)
    CERTIFICATES = "certificates"  # issue and revoke certificates, upload lab reports
    RECALL = "recall"  # open, acknowledge and close recalls


ALL_SCOPES = frozenset(Scope)

#: Endpoints that need no scope: managing the caller's own tokens (a token may mint only
#: tokens with fewer scopes than its own and revoke only what it could do itself).
NO_SCOPE: None = None

#: ``METHOD rule`` of every API endpoint → the scope a token needs for it. An endpoint missing
#: here is refused to every token (and fails ``tests/unit/test_scopes.py``).
ENDPOINT_SCOPES: Mapping[str, Scope | None] = {
    "GET /api/v1/certificates": Scope.READ,
    "POST /api/v1/certificates": Scope.CERTIFICATES,
    "GET /api/v1/certificates/<uuid:certificate_id>": Scope.READ,
    "POST /api/v1/certificates/<uuid:certificate_id>/revoke": Scope.CERTIFICATES,
    "GET /api/v1/certificates/<uuid:certificate_id>/qr.png": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/label.png": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/label.pdf": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/label.zpl": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/label.tspl": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/label.escpos": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/sheet.pdf": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/share.png": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/case.png": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/case.pdf": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/case.zpl": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/case.tspl": Scope.READ,
    "GET /api/v1/certificates/<uuid:certificate_id>/case.escpos": Scope.READ,
    "POST /api/v1/reports": Scope.CERTIFICATES,
    "GET /api/v1/pallets/<sscc>": Scope.READ,
    "GET /api/v1/pallets/<sscc>/label.png": Scope.READ,
    "GET /api/v1/pallets/<sscc>/label.pdf": Scope.READ,
    "GET /api/v1/pallets/<sscc>/label.zpl": Scope.READ,
    "GET /api/v1/pallets/<sscc>/label.tspl": Scope.READ,
    "GET /api/v1/pallets/<sscc>/label.escpos": Scope.READ,
    "POST /api/v1/pallets/<sscc>/ship": Scope.EVENTS,
    "POST /api/v1/events": Scope.EVENTS,
    "POST /api/v1/purchases": Scope.EVENTS,
    "GET /api/v1/purchases": Scope.READ,
    "GET /api/v1/purchases/<uuid:purchase_id>": Scope.READ,
    "POST /api/v1/purchases/<uuid:purchase_id>/void": Scope.EVENTS,
    "POST /api/v1/purchases/photos": Scope.EVENTS,
    "GET /api/v1/purchases/photos/<uuid:photo_id>": Scope.READ,
    # A setting of the organisation, as the time zone is on its pages (admins only, by the table).
    "PUT /api/v1/purchases/retention": Scope.EVENTS,
    "POST /api/v1/events/batch": Scope.EVENTS,
    "GET /api/v1/events/<uuid:event_id>": Scope.READ,
    # Parsing a logger file writes nothing; it is the first half of recording a leg.
    "POST /api/v1/temperature-logs/parse": Scope.EVENTS,
    "GET /api/v1/codes/<code>": Scope.READ,
    "GET /api/v1/codes/<code>/epcis": Scope.READ,
    "GET /api/v1/trace/<code>": Scope.READ,
    "GET /api/v1/recalls": Scope.READ,
    "POST /api/v1/recalls": Scope.RECALL,
    "GET /api/v1/recalls/<uuid:recall_id>": Scope.READ,
    "POST /api/v1/recalls/<uuid:recall_id>/acknowledge": Scope.RECALL,
    "POST /api/v1/recalls/<uuid:recall_id>/close": Scope.RECALL,
    "GET /api/v1/recalls/<uuid:recall_id>/export.csv": Scope.READ,
    "GET /api/v1/recalls/<uuid:recall_id>/export.xlsx": Scope.READ,
    # An export job reads what export.csv reads, in the background.
    "POST /api/v1/recalls/<uuid:recall_id>/exports": Scope.READ,
    "GET /api/v1/recalls/<uuid:recall_id>/exports/<uuid:job_id>": Scope.READ,
    "GET /api/v1/recalls/<uuid:recall_id>/exports/<uuid:job_id>/file": Scope.READ,
    # Custody at the gate: a hand-over code, an objection and its resolution are custody
    # facts, recorded as events are.
    "GET /api/v1/handover-codes": Scope.READ,
    "POST /api/v1/handover-codes": Scope.EVENTS,
    "GET /api/v1/handovers": Scope.READ,
    "GET /api/v1/disputes": Scope.READ,
    "POST /api/v1/disputes": Scope.EVENTS,
    "GET /api/v1/disputes/<uuid:dispute_id>": Scope.READ,
    "POST /api/v1/disputes/<uuid:dispute_id>/resolve": Scope.EVENTS,
    "GET /api/v1/tokens": Scope.READ,
    "POST /api/v1/tokens": NO_SCOPE,
    "POST /api/v1/tokens/<uuid:token_id>/revoke": NO_SCOPE,
    "GET /api/v1/audit": Scope.READ,
    # The operator's identity and seal are what its certificates carry: set with that scope.
    "GET /api/v1/organisation": Scope.READ,
    "PATCH /api/v1/organisation": Scope.CERTIFICATES,
    "GET /api/v1/organisation/seal": Scope.READ,
    "POST /api/v1/organisation/seal": Scope.CERTIFICATES,
    "DELETE /api/v1/organisation/seal": Scope.CERTIFICATES,
    "GET /api/v1/organisation/seal.png": Scope.READ,
    "GET /api/v1/organisations/<uuid:org_id>": Scope.READ,
    "GET /api/v1/notifications": Scope.READ,
    # Marking read changes only the organisation's own inbox: a reader's token does it.
    "POST /api/v1/notifications/<uuid:notification_id>/read": Scope.READ,
    # The EPCIS 2.0 REST binding (/epcis): capturing records events; everything else reads.
    "GET /epcis/": Scope.READ,
    "GET /epcis/bizLocations": Scope.READ,
    "GET /epcis/bizLocations/<path:biz_location>": Scope.READ,
    "GET /epcis/bizLocations/<path:biz_location>/events": Scope.READ,
    "GET /epcis/bizSteps": Scope.READ,
    "GET /epcis/bizSteps/<path:biz_step>": Scope.READ,
    "GET /epcis/bizSteps/<path:biz_step>/events": Scope.READ,
    "GET /epcis/capture": Scope.READ,
    "GET /epcis/capture/<capture_id>": Scope.READ,
    "GET /epcis/dispositions": Scope.READ,
    "GET /epcis/dispositions/<path:disposition>": Scope.READ,
    "GET /epcis/dispositions/<path:disposition>/events": Scope.READ,
    "GET /epcis/epcs": Scope.READ,
    "GET /epcis/epcs/<path:epc>": Scope.READ,
    "GET /epcis/epcs/<path:epc>/events": Scope.READ,
    "GET /epcis/eventTypes": Scope.READ,
    "GET /epcis/eventTypes/<event_type>": Scope.READ,
    "GET /epcis/eventTypes/<event_type>/events": Scope.READ,
    "GET /epcis/events": Scope.READ,
    "GET /epcis/events/<path:event_id>": Scope.READ,
    "GET /epcis/readPoints": Scope.READ,
    "GET /epcis/readPoints/<path:read_point>": Scope.READ,
    "GET /epcis/readPoints/<path:read_point>/events": Scope.READ,
    "POST /epcis/capture": Scope.EVENTS,
    "POST /epcis/events": Scope.EVENTS,
}


class UnknownEndpoint(LookupError):
    """An API endpoint with no line in ``ENDPOINT_SCOPES``."""


def scope_for(method: str, rule: str) -> Scope | None:
    """The scope ``METHOD rule`` needs (None: none). Raises UnknownEndpoint if not in the table
    (HEAD and OPTIONS count as GET)."""
    method = "GET" if method in {"HEAD", "OPTIONS"} else method
    key = f"{method} {rule}"
    if key not in ENDPOINT_SCOPES:
        raise UnknownEndpoint(key)
    return ENDPOINT_SCOPES[key]


def parse_scopes(names: list[str] | tuple[str, ...]) -> frozenset[Scope]:
    """Scopes from their names. Raises ValueError naming the first unknown one."""
    return frozenset(Scope(name) for name in names)
