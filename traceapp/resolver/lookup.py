"""Which batch or product a Digital Link names: certificates by GTIN, then by lot.

A certificate stores its GTIN as it was entered (8, 12, 13 or 14 digits); a Digital Link
carries it as 14, so every shorter spelling with the same value is looked for. The lot (AI 10)
is the batch's trace code (what our EPCIS documents and the QR print when the producer gave no
lot) or the producer's own lot number. A producer may reuse a lot number: the producer's own
certificate is taken before portions and entry records, and the first issued before later ones,
so a label once printed with a lot never comes to name another batch (later batches with that
lot print their trace code instead: ``links.label_lot``).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from traceapp import codes
from traceapp.certificates.models import Certificate, CertificateKind
from traceapp.certificates.texts import CATEGORY_LABELS
from traceapp.orgs.models import Organisation


def gtin_spellings(gtin14: str) -> list[str]:
    """``gtin14`` and its GTIN-13, -12 and -8 spellings where its leading zeros allow them."""
    return [gtin14] + [gtin14[14 - n :] for n in (13, 12, 8) if gtin14[: 14 - n].strip("0") == ""]


def _of_gtin(gtin14: str) -> sa.Select[tuple[Certificate]]:
    return sa.select(Certificate).where(Certificate.gtin.in_(gtin_spellings(gtin14)))


_PREFERRED = (
    sa.case((Certificate.kind == CertificateKind.CERTIFICATE, 0), else_=1),
    Certificate.issued_at,
    Certificate.id,
)


def find_batch(session: Session, gtin14: str, lot: str) -> Certificate | None:
    """The certificate ``/01/{gtin14}/10/{lot}`` names, or None. Lots are case-sensitive."""
    if codes.CODE_RE.fullmatch(lot):
        found = session.scalars(_of_gtin(gtin14).where(Certificate.trace_code == lot)).first()
        if found is not None:
            return found
    return session.scalars(_of_gtin(gtin14).where(Certificate.batch_no == lot).order_by(*_PREFERRED)).first()


@dataclass(frozen=True)
class Product:
    """What the product page of a GTIN shows: only what every batch's public page shows."""

    gtin: str
    name: str
    category: object | None
    producer_name: str
    issuer_name: str


def find_product(session: Session, gtin14: str) -> Product | None:
    """The product a GTIN names, as described by the organisation that owns it, or None.

    Nothing stops another organisation from printing someone else's GTIN on its certificates,
    so the page does not follow the latest certificate: first the organisation whose GS1 company
    prefix the GTIN carries, else the one that used the GTIN first."""
    owner = sa.case(
        (
            sa.and_(
                Organisation.gs1_company_prefix.is_not(None),
                sa.literal(gtin14[1:], sa.String).startswith(Organisation.gs1_company_prefix),
            ),
            0,
        ),
        else_=1,
    )
    row = session.execute(
        sa.select(Certificate, Organisation.name)
        .join(Organisation, Organisation.id == Certificate.org_id)
        .where(Certificate.gtin.in_(gtin_spellings(gtin14)))
        .order_by(owner, *_PREFERRED)
        .limit(1)
    ).first()
    if row is None:
        return None
    certificate, issuer = row
    category = CATEGORY_LABELS.get(certificate.category) if certificate.category else None
    return Product(gtin14, certificate.product_name, category, certificate.producer_name, issuer)
