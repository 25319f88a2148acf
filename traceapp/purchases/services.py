"""Recording, voiding, reading and purging purchases (收购). Services flush, never commit.

A line of one of our certificates is the buyer collecting that batch: when the seller shipped
it to the buyer, the purchase records the receiving through the events service (the one custody
path); bought at the farm gate with nothing shipped, it is collected without moving custody,
and the line's own ``remaining`` bounds what may be re-issued from it.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from traceapp import codes, idempotency
from traceapp.certificates.models import Certificate
from traceapp.certificates.texts import quantity_text
from traceapp.db import utcnow
from traceapp.errors import Conflict, InvalidInput, NotFound, PayloadTooLarge
from traceapp.events import rules as event_rules
from traceapp.events.custody import open_shipment
from traceapp.events.models import EventKind, HoldingChange
from traceapp.events.recording import BatchQuarantined, CertificateRevoked, EventSettings, is_quarantined
from traceapp.events.services import record as record_event
from traceapp.orgs import audit
from traceapp.orgs.models import Organisation
from traceapp.orgs.permissions import Action, allows, require
from traceapp.orgs.services import Actor
from traceapp.purchases import photos, rules
from traceapp.purchases.models import CollectedKind, Purchase, PurchaseLine, PurchasePhoto, ReissueSource
from traceapp.resolver.lookup import find_batch

PURCHASES_PURGED = "purchases.purged"
#: Names the receiving a purchase line records, from the purchase's client id and the line.
_RECEIVING_NS = uuid.UUID("6a0c7c55-5b7e-4d55-9f1d-2f6f3c1e0b16")


class AlreadyVoided(Conflict):
    slug = "purchase-voided"


class AlreadyReissued(Conflict):
    slug = "purchase-reissued"


def upload_photo(session: Session, actor: Actor, *, content: bytes, max_bytes: int) -> PurchasePhoto:
    """Store a photograph of a paper certificate, re-encoded (``photos.reencode``).

    Raises PermissionDenied (not a buyer), PayloadTooLarge and InvalidInput (not a JPEG or PNG).
    """
    require(actor, Action.PURCHASE)
    if len(content) > max_bytes:
        raise PayloadTooLarge(_("The photo is larger than %(mb)d MB.", mb=max_bytes // 1_000_000))
    try:
        photo = photos.reencode(content)
    except photos.NotAPhoto:
        raise InvalidInput("file", _("Send a photo as a JPEG or PNG image.")) from None
    row = PurchasePhoto(
        org_id=actor.org_id,
        content_type=photo.content_type,
        size=len(photo.content),
        width=photo.width,
        height=photo.height,
        sha256=hashlib.sha256(photo.content).hexdigest(),
        content=photo.content,
    )
    session.add(row)
    session.flush()
    return row


def get_photo(session: Session, actor: Actor, photo_id: uuid.UUID) -> PurchasePhoto:
    """A photo, for the buyer that took it or a regulator. Raises NotFound for anyone else."""
    photo = session.get(PurchasePhoto, photo_id)
    if photo is None or not (photo.org_id == actor.org_id or allows(actor, Action.SEE_ALL_PURCHASES)):
        raise NotFound(_("No such photo."))
    return photo


def record_purchase(
    session: Session, actor: Actor, *, data: dict[str, Any], settings: EventSettings
) -> tuple[Purchase, bool]:
    """Record a purchase from validated ``PurchaseIn`` data; return it and whether it is new.

    The same ``event_id`` with the same body returns the stored purchase; another body is a
    Conflict. Raises PermissionDenied (not a buyer), InvalidInput naming the field (a line with
    no certificate and no reason, a code nobody issued, a bad URL, a photo not the buyer's, a
    seller that never held the batch), CertificateRevoked and BatchQuarantined (409).
    """
    require(actor, Action.PURCHASE)
    digest = idempotency.request_digest(data)

    def replay() -> Purchase | None:
        return idempotency.stored(
            session, Purchase, org_id=actor.org_id, event_id=data["event_id"], digest=digest
        )

    purchase, created = idempotency.insert_once(
        session, lambda: _create(session, actor, data, digest, settings), replay
    )
    return purchase, created


def _create(
    session: Session, actor: Actor, data: dict[str, Any], digest: str, settings: EventSettings
) -> Purchase:
    seller = data["seller"]
    purchase = Purchase(
        id=uuid.uuid4(),
        org_id=actor.org_id,
        recorded_by_id=actor.user_id,
        client_event_id=data["event_id"],
        request_digest=digest,
        purchased_at=data["purchased_at"],
        tz_offset=_offset(data["purchased_at"]),
        place=data.get("place"),
        reference_document=data.get("reference_document"),
        **_seller(session, actor, seller),
    )
    session.add(purchase)
    session.flush()
    for index, line in enumerate(data["lines"]):
        session.add(_line(session, actor, purchase, index, line, settings))
    session.flush()
    return purchase


def _seller(session: Session, actor: Actor, seller: dict[str, Any]) -> dict[str, Any]:
    if seller.get("org_id") is None:
        return {
            "seller_name": seller["name"],
            "seller_phone": seller.get("phone"),
            "seller_region_code": seller.get("region_code"),
        }
    org = session.get(Organisation, seller["org_id"])
    if org is None:
        raise InvalidInput("/seller/org_id", _("No such organisation."))
    if org.id == actor.org_id:
        raise InvalidInput("/seller/org_id", _("Buy from another organisation."))
    return {
        "seller_org_id": org.id,
        "seller_name": org.name,
        "seller_phone": org.phone,
        "seller_region_code": org.region_code,
    }


def _line(
    session: Session,
    actor: Actor,
    purchase: Purchase,
    index: int,
    line: dict[str, Any],
    settings: EventSettings,
) -> PurchaseLine:
    where = f"/lines/{index}"
    kind = CollectedKind(line["collected"])
    for name in rules.missing_fields(kind.value, line):
        raise InvalidInput(f"{where}/{name}", _missing_message(kind, name))
    row = PurchaseLine(
        id=uuid.uuid4(),
        purchase_id=purchase.id,
        position=index,
        product_name=line["product_name"],
        quantity=line["quantity"],
        unit=line["unit"],
        remaining=line["quantity"],
        collected=kind,
        producer_name=line.get("producer_name"),
        origin=line.get("origin"),
        issue_date=line.get("issue_date"),
    )
    if kind is CollectedKind.OURS:
        _collect_ours(session, actor, purchase, row, line, where, settings)
    elif kind is CollectedKind.FOREIGN:
        if not rules.is_web_url(line["url"]):
            raise InvalidInput(f"{where}/url", _("Give the web address the QR code carried (http or https)."))
        row.external_code, row.external_url = line["code"], line["url"]
    elif kind is CollectedKind.PAPER:
        owner = session.scalar(sa.select(PurchasePhoto.org_id).where(PurchasePhoto.id == line["photo_id"]))
        if owner != actor.org_id:
            raise InvalidInput(f"{where}/photo_id", _("No such photo uploaded by your organisation."))
        row.photo_id = line["photo_id"]
    else:
        row.exemption, row.exemption_note = line["exemption"], line.get("exemption_note")
    return row


def _collected_before(session: Session, certificate: Certificate, purchase: Purchase) -> Decimal | None:
    """How much of the certificate purchases not voided have collected so far, by any buyer, in
    its own unit (the lines of ``purchase`` recorded so far included); None if ``purchase``
    already collects it. A trace code is on every label, so anyone can type it: what one
    certificate covers is collected once, not once per buyer who types it."""
    rows = session.execute(
        sa.select(PurchaseLine.purchase_id, PurchaseLine.quantity, PurchaseLine.unit)
        .join(Purchase, Purchase.id == PurchaseLine.purchase_id)
        .where(PurchaseLine.certificate_id == certificate.id, Purchase.voided_at.is_(None))
    ).all()
    if any(purchase_id == purchase.id for purchase_id, _q, _u in rows):
        return None
    total = Decimal(0)
    for _purchase_id, quantity, unit in rows:
        total += event_rules.to_batch_unit(quantity, unit, certificate.unit) or Decimal(0)
    return total


def _missing_message(kind: CollectedKind, name: str) -> str:
    if kind is CollectedKind.NONE and name == "exemption":
        return _(
            "No certificate, no purchase (无证不收): collect the lot's certificate, or say why it has none."
        )
    if name == "exemption_note":
        return _("Say why the lot has no certificate.")
    return _("This field is required.")


def _collect_ours(
    session: Session,
    actor: Actor,
    purchase: Purchase,
    row: PurchaseLine,
    line: dict[str, Any],
    where: str,
    settings: EventSettings,
) -> None:
    certificate = _scanned_certificate(session, line["code"])
    if certificate is None:
        raise InvalidInput(f"{where}/code", _("No certificate has this trace code."))
    if certificate.is_revoked:
        raise CertificateRevoked(
            _(
                "This certificate is revoked (%(reason)s); a buyer may not collect it.",
                reason=certificate.revoke_reason,
            )
        )
    if is_quarantined(session, certificate.id):
        raise BatchQuarantined(_("This batch is recalled; a buyer may not collect it."))
    amount = event_rules.to_batch_unit(row.quantity, row.unit, certificate.unit)
    if amount is None:
        raise InvalidInput(f"{where}/unit", _("This batch is counted in another unit."))
    if amount > certificate.quantity:
        raise InvalidInput(f"{where}/quantity", _("More than the certificate covers."))
    if certificate.org_id == actor.org_id:
        raise InvalidInput(
            f"{where}/code", _("This is your organisation's own certificate: a buyer collects its sellers'.")
        )
    collected = _collected_before(session, certificate, purchase)
    if collected is None:
        raise InvalidInput(f"{where}/code", _("This certificate is already collected in this purchase."))
    if collected + amount > certificate.quantity:
        raise InvalidInput(
            f"{where}/quantity",
            _(
                "More than the certificate covers: %(collected)s of it have been collected already.",
                collected=quantity_text(collected, certificate.unit),
            ),
        )
    if purchase.seller_org_id is not None and not _ever_held(session, certificate, purchase.seller_org_id):
        raise InvalidInput(f"{where}/code", _("The seller never held this batch."))
    row.certificate_id = certificate.id
    row.producer_name = certificate.producer_name
    row.origin = _origin(certificate)
    row.issue_date = certificate.issued_at.date()
    if open_shipment(session, certificate.id, actor.org_id) is not None:
        row.receiving_event_id = _receive(session, actor, purchase, row, certificate, where, settings)


def _scanned_certificate(session: Session, text: str) -> Certificate | None:
    """The certificate a typed or scanned code names: a trace code, code URL or Digital Link."""
    found = codes.scanned_trace_code(text)
    if found is not None:
        return session.scalar(sa.select(Certificate).where(Certificate.trace_code == found[0]))
    scan = codes.parse_scan(text)
    if scan.kind == "digital_link" and scan.gtin and scan.lot:
        return find_batch(session, scan.gtin, scan.lot)
    return None


def _ever_held(session: Session, certificate: Certificate, org_id: uuid.UUID) -> bool:
    if certificate.org_id == org_id:
        return True
    held = sa.select(HoldingChange.event_id).where(
        HoldingChange.certificate_id == certificate.id, HoldingChange.org_id == org_id
    )
    return session.scalar(held.limit(1)) is not None


def _origin(certificate: Certificate) -> str:
    return certificate.origin_address or certificate.origin_region_code


def _receive(
    session: Session,
    actor: Actor,
    purchase: Purchase,
    row: PurchaseLine,
    certificate: Certificate,
    where: str,
    settings: EventSettings,
) -> uuid.UUID:
    """Take the seller's shipment in through the events service (a receiving event)."""
    data = {
        "event_id": uuid.uuid5(_RECEIVING_NS, f"{purchase.client_event_id}:{row.position}"),
        "kind": EventKind.RECEIVING,
        "trace_code": certificate.trace_code,
        "quantity": row.quantity,
        "unit": row.unit,
        "occurred_at": purchase.purchased_at,
        "location": purchase.place,
    }
    try:
        done = record_event(session, actor, data=data, settings=settings)
    except InvalidInput as error:
        raise InvalidInput(
            f"{where}/quantity", error.errors[0].message if error.errors else str(error)
        ) from None
    return done.event.id


def void_purchase(
    session: Session, actor: Actor, *, purchase_id: uuid.UUID, reason: str, settings: EventSettings
) -> Purchase:
    """Void the actor's organisation's purchase with a reason; the receivings it recorded are
    voided too. Raises NotFound, AlreadyVoided, AlreadyReissued (something was re-issued from
    it) and the events service's Conflicts (the goods moved on)."""
    require(actor, Action.PURCHASE)
    purchase = session.get(Purchase, purchase_id, with_for_update=True)
    if purchase is None or purchase.org_id != actor.org_id:
        raise NotFound(_("No such purchase."))
    if purchase.voided_at is not None:
        raise AlreadyVoided(_("This purchase is already voided."))
    lines = session.scalars(sa.select(PurchaseLine).where(PurchaseLine.purchase_id == purchase.id)).all()
    if session.scalar(
        sa.select(ReissueSource.line_id)
        .where(ReissueSource.line_id.in_([line.id for line in lines]))
        .limit(1)
    ):
        raise AlreadyReissued(_("A certificate was re-issued from this purchase; it cannot be voided."))
    for line in lines:
        if line.receiving_event_id is not None:
            _void_receiving(session, actor, purchase, line, reason, settings)
    purchase.voided_at, purchase.voided_by_id, purchase.void_reason = utcnow(), actor.user_id, reason
    session.flush()
    return purchase


def _void_receiving(
    session: Session,
    actor: Actor,
    purchase: Purchase,
    line: PurchaseLine,
    reason: str,
    settings: EventSettings,
) -> None:
    receiving = uuid.uuid5(_RECEIVING_NS, f"{purchase.client_event_id}:{line.position}")
    data = {
        "event_id": uuid.uuid5(_RECEIVING_NS, f"void:{receiving}"),
        "kind": EventKind.VOIDING,
        "occurred_at": utcnow(),
        "corrects": {"event_id": receiving, "reason": reason},
    }
    record_event(session, actor, data=data, settings=settings)


def get_purchase(session: Session, actor: Actor, purchase_id: uuid.UUID) -> Purchase:
    """A purchase with its lines, for its buyer, its seller organisation or a regulator.
    Raises NotFound for anyone else (a stranger learns nothing of it)."""
    purchase = session.scalar(
        sa.select(Purchase).where(Purchase.id == purchase_id).options(selectinload(Purchase.lines))
    )
    if purchase is None or not may_read(session, actor, purchase):
        raise NotFound(_("No such purchase."))
    return purchase


def may_read(session: Session, actor: Actor, purchase: Purchase) -> bool:
    """Its buyer, its seller organisation, or a regulator. Not the issuer of a lot in it that
    sold through someone else: the purchase names other producers' lots, the seller's phone,
    the place and the slip (the issuer follows its own batch by its trace instead)."""
    return actor.org_id in (purchase.org_id, purchase.seller_org_id) or allows(
        actor, Action.SEE_ALL_PURCHASES
    )


def list_purchases(
    session: Session,
    actor: Actor,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    seller: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Purchase]:
    """Purchases the actor may read, newest first: its own, those it sold, or every buyer's for
    a regulator; filtered by purchase time and seller (an organisation id or part of the name)."""
    query = sa.select(Purchase).options(selectinload(Purchase.lines))
    if not allows(actor, Action.SEE_ALL_PURCHASES):
        query = query.where(sa.or_(Purchase.org_id == actor.org_id, Purchase.seller_org_id == actor.org_id))
    if since is not None:
        query = query.where(Purchase.purchased_at >= since)
    if until is not None:
        query = query.where(Purchase.purchased_at < until)
    if seller:
        query = query.where(_seller_filter(seller))
    query = query.order_by(Purchase.purchased_at.desc(), Purchase.id).limit(limit).offset(offset)
    return list(session.scalars(query))


def _seller_filter(seller: str) -> sa.ColumnElement[bool]:
    try:
        return Purchase.seller_org_id == uuid.UUID(seller)
    except ValueError:
        return Purchase.seller_name.contains(seller, autoescape=True)


def purge_expired(session: Session, *, now: datetime | None = None) -> dict[uuid.UUID, int]:
    """Delete, for each organisation that set a retention, its purchases recorded before the
    cutoff (with their lines and photos) and photos it uploaded before then but never used.
    A purchase a certificate was re-issued from is kept: that certificate names it. Audited per
    organisation. Without a setting nothing is deleted. Returns organisation → purchases deleted.
    """
    now = now or utcnow()
    done: dict[uuid.UUID, int] = {}
    orgs = session.execute(
        sa.select(Organisation.id, Organisation.retention_months).where(
            Organisation.retention_months.is_not(None)
        )
    ).all()
    for org_id, months in orgs:
        cutoff = rules.purge_cutoff(now, months)
        assert cutoff is not None
        deleted, photos_deleted = _purge_org(session, org_id, cutoff)
        if deleted or photos_deleted:
            audit.record(
                session,
                action=PURCHASES_PURGED,
                org_id=org_id,
                subject_type="organisation",
                subject_id=org_id,
                details={
                    "purchases": deleted,
                    "photos": photos_deleted,
                    "before": cutoff.isoformat(),
                    "months": months,
                },
            )
        done[org_id] = deleted
    return done


def _purge_org(session: Session, org_id: uuid.UUID, cutoff: datetime) -> tuple[int, int]:
    used = sa.select(PurchaseLine.purchase_id).join(ReissueSource, ReissueSource.line_id == PurchaseLine.id)
    old = sa.select(Purchase.id).where(
        Purchase.org_id == org_id, Purchase.recorded_at < cutoff, Purchase.id.not_in(used)
    )
    ids = list(session.scalars(old))
    photo_ids = set(
        session.scalars(
            sa.select(PurchaseLine.photo_id).where(
                PurchaseLine.purchase_id.in_(ids), PurchaseLine.photo_id.is_not(None)
            )
        )
    )
    session.execute(sa.delete(PurchaseLine).where(PurchaseLine.purchase_id.in_(ids)))
    session.execute(sa.delete(Purchase).where(Purchase.id.in_(ids)))
    still_used = sa.select(PurchaseLine.photo_id).where(PurchaseLine.photo_id.is_not(None))
    stale = sa.or_(PurchasePhoto.id.in_(photo_ids), PurchasePhoto.created_at < cutoff)
    result = session.execute(
        sa.delete(PurchasePhoto).where(
            PurchasePhoto.org_id == org_id, stale, PurchasePhoto.id.not_in(still_used)
        )
    )
    session.flush()
    return len(ids), result.rowcount or 0


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset()
    minutes = int(offset.total_seconds() // 60) if offset is not None else 0
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
