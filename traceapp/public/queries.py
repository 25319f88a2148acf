"""What the public page of a code shows, read in a bounded number of queries, ready to render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import format_date, to_user_timezone
from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy.orm import Session, aliased

from traceapp import codes, regions
from traceapp.certificates.models import Basis, Certificate, CertificateKind, Commitment, ScanCount
from traceapp.certificates.queries import mask_phone
from traceapp.certificates.scans import with_scans
from traceapp.certificates.status import BatchFacts, batch_status
from traceapp.certificates.texts import BASIS_LABELS, CATEGORY_LABELS, COMMITMENT_LABELS, quantity_text
from traceapp.coldchain.chart import leg_svg
from traceapp.coldchain.texts import VERDICT_LABELS
from traceapp.coldchain.verdicts import Verdict
from traceapp.events.models import Event, EventKind
from traceapp.events.queries import Journey, is_claim, is_verdict, journey
from traceapp.events.texts import KIND_LABELS
from traceapp.orgs.models import Organisation
from traceapp.recalls.models import Recall, RecallBatch, RecallStatus
from traceapp.recalls.queries import open_recall_of
from traceapp.zones import in_zone


@dataclass(frozen=True)
class Step:
    """One step of the journey as the consumer reads it."""

    title: object
    when: datetime
    org: str
    location: str | None
    quantity: str | None
    lines: list[str] = field(default_factory=list)
    tests: list[dict[str, Any]] = field(default_factory=list)
    leg: dict[str, Any] | None = None
    chart: Markup | None = None
    corrected: str | None = None
    correction: str | None = None


@dataclass(frozen=True)
class PublicCertificate:
    """Everything the consumer page shows, already formatted (strings translate at render)."""

    trace_code: str
    code_display: str
    kind: str
    status: str
    revoked_at: datetime | None
    revoke_reason: str | None
    product_name: str
    category: object | None
    quantity: str
    producer_name: str
    producer_phone: str | None
    producer_region: str
    issuer_name: str
    origin: str
    origin_code: str
    issued_on: date
    harvest_date: date | None
    batch_no: str | None
    commitments: list[object]
    basis: list[object]
    lab_name: str | None
    report_number: str | None
    has_report: bool
    steps: list[Step]
    rejection: Step | None
    #: Rejections by markets that never had the batch: their claims, shown by name.
    claims: list[Step]
    cold_chain: str
    cold_chain_label: object
    made_from: list[tuple[str, str]]
    went_into: list[tuple[str, str]]
    recall: Recall | None
    #: The producers (name, origin) whose certificates a buyer collected and re-issued as this.
    collected_from: list[tuple[str, str]]
    #: The issuing organisation's time zone: the page's dates are in it (``zones.in_zone``).
    zone: str
    rejection_reasons: list[str] = field(default_factory=list)
    replacement: tuple[str, str] | None = None
    first_scanned_at: datetime | None = None
    scans: int = 0
    share_image: str = ""
    #: The producer's credit code and its own address: only on a producer's certificate (a
    #: portion names the producer, while the issuer is the market that cut it).
    producer_credit_code: str | None = None
    producer_address: str | None = None


_RECALLED = sa.exists().where(
    RecallBatch.certificate_id == Certificate.id,
    RecallBatch.recall_id == Recall.id,
    Recall.status == RecallStatus.OPEN,
)
_REPLACEMENT = aliased(Certificate)
_LOOKUP = (
    sa.select(
        Certificate,
        Organisation.name,
        Organisation.timezone,
        _RECALLED,
        _REPLACEMENT.trace_code,
        _REPLACEMENT.product_name,
        ScanCount.first_scanned_at,
        ScanCount.shown_scans,
        ScanCount.shown_places,
        Organisation.credit_code,
        Organisation.address,
    )
    .join(Organisation, Organisation.id == Certificate.org_id)
    .outerjoin(_REPLACEMENT, _REPLACEMENT.id == Certificate.replaced_by_id)
    .outerjoin(ScanCount, sa.and_(ScanCount.certificate_id == Certificate.id, ScanCount.shown_scans > 0))
    .where(Certificate.trace_code == sa.bindparam("code"))
)


@dataclass(frozen=True)
class Facts:
    """What a public page is made from, read from the database (no language yet)."""

    certificate: Certificate
    trip: Journey
    recall: Recall | None
    zone: str  #: the issuing organisation's time zone
    #: (code, product name) of the certificate that replaces this revoked one.
    replacement: tuple[str, str] | None = None
    #: The published scan counts: (first scan, scans, places), None before the first.
    scanned: tuple[datetime, int, int] | None = None
    #: The issuing operator's credit code and its own address (not the place of production).
    operator: tuple[str | None, str | None] = (None, None)


def load_facts(session: Session, code: str, *, fresh: bool = False) -> Facts | None:
    """The facts behind the public page of a code, or None when no certificate has it.

    Two queries for a batch with no events yet (the certificate with its issuer and recall flag,
    then its events), at most seven for a long journey of a recalled batch. ``fresh`` reloads the
    certificate and recall rows over any copies the session holds: a page stored inside a write
    transaction must show what other transactions committed meanwhile (a revocation, say).
    """
    normal = codes.normalize_trace_code(code)
    options = {"populate_existing": True} if fresh else {}
    row = session.execute(_LOOKUP, {"code": normal}, execution_options=options).first() if normal else None
    if row is None:
        return None
    certificate, issuer, zone, recalled, new_code, new_name, first_scan, scans, places, credit, address = row
    trip = journey(session, certificate, holdings=False, issuer_name=issuer)
    recall = open_recall_of(session, certificate.id, fresh=fresh) if recalled else None
    return Facts(
        certificate,
        trip,
        recall,
        zone,
        replacement=(new_code, new_name) if new_code else None,
        scanned=(first_scan, scans, places) if first_scan is not None else None,
        operator=(credit, address),
    )


def public_certificate(session: Session, code: str) -> PublicCertificate | None:
    """The public view of a code in the current language, or None when no certificate has it."""
    facts = load_facts(session, code)
    return present(facts) if facts else None


def present(facts: Facts) -> PublicCertificate:
    """The page's content in the current language (gettext and dates format here), its dates
    in the issuing organisation's time zone (render it ``in_zone(page.zone)`` too)."""
    with in_zone(facts.zone):
        return _present(facts.certificate, facts.trip, facts.recall, facts)


def _present(c: Certificate, trip: Journey, recall: Recall | None, facts: Facts) -> PublicCertificate:
    # A portion or an entry record comes into being through the event that made it (already in
    # the journey); only a producer's certificate has an issue step of its own.
    first = [_issue_step(c, trip)] if c.kind is CertificateKind.CERTIFICATE else []
    steps = first + [_step(e, trip) for e in trip.events]
    standing = [
        (s, e) for s, e in zip(steps[len(first) :], trip.events, strict=True) if e.id not in trip.corrected_by
    ]
    rejection = next((s for s, e in standing if is_verdict(e)), None)
    claims = [s for s, e in standing if is_claim(e)]
    return PublicCertificate(
        trace_code=c.trace_code,
        code_display=codes.format_trace_code(c.trace_code),
        kind=c.kind.value,
        status=batch_status(
            with_scans(
                BatchFacts(
                    revoked=c.is_revoked,
                    recalled=recall is not None,
                    failed_inspection=trip.failed_inspection,
                ),
                c,
                facts.scanned[1:] if facts.scanned else None,
            )
        ).value,
        revoked_at=c.revoked_at,
        revoke_reason=c.revoke_reason,
        product_name=c.product_name,
        category=CATEGORY_LABELS.get(c.category) if c.category else None,
        quantity=quantity_text(c.quantity, c.unit),
        producer_name=c.producer_name,
        producer_phone=mask_phone(c.producer_phone),
        producer_region=regions.full_name(c.producer_region_code or ""),
        issuer_name=trip.orgs.get(c.org_id, ""),
        origin=regions.place(c.origin_region_code, c.origin_address),
        origin_code=c.origin_region_code,
        issued_on=to_user_timezone(c.issued_at).date(),
        harvest_date=c.harvest_date,
        batch_no=c.batch_no,
        commitments=[COMMITMENT_LABELS[Commitment(v)] for v in c.commitments],
        basis=[BASIS_LABELS[Basis(v)] for v in c.basis],
        lab_name=c.lab_name,
        report_number=c.report_number,
        has_report=c.report_id is not None,
        steps=steps,
        rejection=rejection,
        claims=claims,
        cold_chain=trip.cold_chain.value,
        cold_chain_label=VERDICT_LABELS[trip.cold_chain],
        made_from=trip.made_from,
        went_into=trip.went_into,
        recall=recall,
        collected_from=trip.collected_from,
        zone=facts.zone,
        rejection_reasons=_rejection_reasons(c, rejection),
        replacement=facts.replacement,
        first_scanned_at=facts.scanned[0] if facts.scanned else None,
        producer_credit_code=facts.operator[0] if c.kind is CertificateKind.CERTIFICATE else None,
        producer_address=facts.operator[1] if c.kind is CertificateKind.CERTIFICATE else None,
        scans=facts.scanned[1] if facts.scanned else 0,
        share_image=url_for("public.share_image", code=c.trace_code, _external=True),
    )


def _rejection_reasons(c: Certificate, rejection: Step | None) -> list[str]:
    """Why the gate rejected the batch, in words: each positive rapid test (product, test, value,
    market, date), or the check's failure when no test was positive."""
    if rejection is None:
        return []
    day = format_date(to_user_timezone(rejection.when).date())
    positives = [t for t in rejection.tests if t.get("result") == "positive"]
    if not positives:
        return [
            _(
                "%(market)s rejected %(product)s at its gate on %(date)s: the check failed.",
                market=rejection.org,
                product=c.product_name,
                date=day,
            )
        ]
    return [_positive(rejection.org, c.product_name, day, t) for t in positives]


def _positive(market: str, product: str, day: str, test: dict[str, Any]) -> str:
    facts = {"market": market, "product": product, "date": day, "test": test.get("item") or ""}
    if test.get("value") in (None, ""):
        return _("%(market)s tested %(product)s on %(date)s: %(test)s was positive.", **facts)
    value = str(test["value"]) + str(test.get("value_unit") or "")
    return _(
        "%(market)s tested %(product)s on %(date)s: %(test)s was positive (%(value)s).", value=value, **facts
    )


def _issue_step(c: Certificate, trip: Journey) -> Step:
    return Step(
        KIND_LABELS[EventKind.COMMISSIONING],
        c.issued_at,
        trip.orgs.get(c.org_id, ""),
        None,
        quantity_text(c.quantity, c.unit),
    )


def _step(event: Event, trip: Journey) -> Step:
    items = trip.items.get(event.id, [])
    amount = next(
        (quantity_text(i.quantity, i.unit) for i in items if i.quantity is not None and i.unit), None
    )
    corrected_by = trip.corrected_by.get(event.id)
    return Step(
        title=KIND_LABELS[event.kind],
        when=event.occurred_at,
        org=trip.orgs.get(event.org_id, ""),
        location=event.location,
        quantity=amount,
        lines=_lines(event, trip),
        tests=event.details.get("tests") or [],
        leg=event.details.get("cold_chain"),
        chart=_chart(event, trip),
        corrected=corrected_by.correction_reason if corrected_by else None,
        correction=event.correction_reason,
    )


def _lines(event: Event, trip: Journey) -> list[str]:
    details, lines = event.details, []
    if event.destination_org_id and event.kind is EventKind.SHIPPING:
        lines.append(_("To %(org)s", org=trip.orgs.get(event.destination_org_id, "")))
    if details.get("lost") and Decimal(details["lost"]) > 0:
        lines.append(
            _(
                "Shipped %(shipped)s, received %(received)s: %(lost)s short.",
                shipped=details["shipped"],
                received=details["received"],
                lost=details["lost"],
            )
        )
    if is_claim(event):
        lines.append(_("%(org)s reports: failed inspection", org=trip.orgs.get(event.org_id, "")))
        lines.append(_("A claim: this market never received the batch."))
    elif event.kind is EventKind.INSPECTING:
        lines.append(
            _("Accepted at the gate") if details.get("result") == "accepted" else _("Rejected at the gate")
        )
    return lines


def _chart(event: Event, trip: Journey) -> Markup | None:
    leg, readings = event.details.get("cold_chain"), trip.readings.get(event.id)
    if not leg or not readings:
        return None
    low, high = [None if v is None else Decimal(v) for v in leg["range"]] if leg["range"] else [None, None]
    allowed = (low, high) if leg["range"] else None
    points = [(to_user_timezone(r.at), r.celsius) for r in readings]
    svg = leg_svg(points, allowed, label=str(VERDICT_LABELS[Verdict(leg["verdict"])]))
    return Markup(svg) if svg else None
