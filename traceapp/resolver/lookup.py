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

from traceapp.certificates.models import Certificate
from traceapp.certificates.queries import PREFERRED, find_batch, gtin_spellings
from traceapp.certificates.texts import CATEGORY_LABELS
from traceapp.orgs.models import Organisation

#: find_batch lives with the other code look-ups (a typed element string reads the same way).
__all__ = ["Product", "find_batch", "find_product", "gtin_spellings"]


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
        .order_by(owner, *PREFERRED)
        .limit(1)
    ).first()
    if row is None:
        return None
    certificate, issuer = row
    category = CATEGORY_LABELS.get(certificate.category) if certificate.category else None
    return Product(gtin14, certificate.product_name, category, certificate.producer_name, issuer)
