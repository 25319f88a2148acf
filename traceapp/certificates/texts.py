"""What people read for each enum value: lazily translated labels (msgids in English)."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l

from traceapp.certificates.models import Basis, Category, Commitment, Unit
from traceapp.certificates.status import BatchStatus
from traceapp.schemas import decimal_text

UNIT_LABELS = {
    Unit.KG: _l("kg"),
    Unit.JIN: _l("jin (500 g)"),
    Unit.PIECE: _l("pieces"),
    Unit.BOX: _l("boxes"),
}

#: Short unit names printed after a quantity.
UNIT_SHORT = {Unit.KG: _l("kg"), Unit.JIN: _l("jin"), Unit.PIECE: _l("pcs"), Unit.BOX: _l("boxes")}

CATEGORY_LABELS = {
    Category.VEGETABLE: _l("Vegetables"),
    Category.EDIBLE_FUNGUS: _l("Edible fungi"),
    Category.FRUIT: _l("Fruit"),
    Category.TEA: _l("Fresh tea leaves"),
    Category.LIVESTOCK: _l("Livestock (meat)"),
    Category.POULTRY: _l("Poultry"),
    Category.EGG: _l("Eggs"),
    Category.AQUATIC: _l("Aquatic products"),
    Category.OTHER: _l("Other"),
}

COMMITMENT_LABELS = {
    Commitment.NO_BANNED_SUBSTANCES: _l(
        "No banned pesticides or veterinary drugs, no withdrawn veterinary drugs, no illegal additives"
    ),
    Commitment.RESIDUES_WITHIN_LIMITS: _l(
        "Residues of ordinary pesticides and veterinary drugs within limits"
    ),
    Commitment.TRUTHFUL: _l("Responsible for the truth of this commitment"),
}

#: One short line for the smallest labels.
COMMITMENTS_SHORT = _l("No banned drugs · Residues within limits · Truthful")

BASIS_LABELS = {
    Basis.COMMISSIONED_TEST: _l("Commissioned lab test"),
    Basis.SELF_TEST: _l("Own test"),
    Basis.INTERNAL_QC: _l("Internal quality control"),
    Basis.SELF_COMMITMENT: _l("Own commitment"),
}

#: A batch's status as its holders' lists show it.
STATUS_LABELS = {
    BatchStatus.VALID: _l("Valid"),
    BatchStatus.REVOKED: _l("Revoked"),
    BatchStatus.RECALLED: _l("Recalled"),
    BatchStatus.FAILED_INSPECTION: _l("Rejected at a gate"),
    BatchStatus.SUSPICIOUS: _l("Suspicious: scanned too often"),
    BatchStatus.EXPIRED: _l("Expired"),
}


def quantity_text(quantity: Decimal, unit: Unit) -> str:
    """``500 kg`` / ``500 千克``: a quantity with its short unit, in the current language."""
    return f"{decimal_text(quantity)} {UNIT_SHORT[unit]}"
