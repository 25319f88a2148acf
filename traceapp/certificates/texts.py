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


#: Why a typed or scanned code names no batch (``queries.scan_problem``), for the page or the
#: API's problem detail. The trace-code reasons have their own sentences on the pages; text that
#: is neither (``unknown_format``, ``unknown_url``) keeps the plain "no certificate has the code".
SCAN_REASONS = {
    "bad_uri": _l("This is not a well-formed web address."),
    "bad_dl_path": _l("The Digital Link path is malformed: /01/{GTIN}, then 22, 10, 21 in that order."),
    "qualifier_in_query": _l("A Digital Link carries AI 22, 10 or 21 in its path, not its query."),
    "not_dl_attribute": _l("This Application Identifier may not be a Digital Link data attribute."),
    "bad_element_string": _l("This GS1 barcode data is malformed: check the brackets and the numbers."),
    "unsupported_ai": _l("The Digital Link holds an Application Identifier that GS1 does not define."),
    "bad_ai_value": _l("This value has the wrong length or characters."),
    "bad_gtin_check_digit": _l("The GTIN's check digit is wrong: a digit was mistyped or misread."),
    "bad_check_digit": _l("The check digit is wrong."),
    "bad_date": _l("This date (YYMMDD) is not a real date."),
    "bad_ai_content": _l(
        "This value breaks a rule of its Application Identifier (a code list, range or format)."
    ),
    "duplicate_ai": _l("This Application Identifier appears twice."),
    "missing_ai": _l("An Application Identifier is present without the one it must go with."),
    "conflicting_ais": _l("Two Application Identifiers that may not go together are present."),
    "no_gtin": _l("The GS1 data has no GTIN (AI 01), so it names no product."),
    "unknown_gtin": _l("No batch here has this GTIN: the product is not traced with us."),
    "unknown_lot": _l("We know this GTIN, but no batch of it has this lot."),
    "no_lot": _l("The GS1 data names a product but no lot (AI 10), so it names no batch."),
    "unknown_sscc": _l("No pallet has this SSCC."),
}


def scan_reason(code: str | None) -> str | None:
    """The reader's sentence for a ``scan_problem`` reason, or None."""
    text = SCAN_REASONS.get(code or "")
    return str(text) if text is not None else None
