"""What a gate check records: the operator's options, the verdict rule and the event body.

Pure functions, no I/O. Options come from flags (for every scan of a session) or inline on the
scanned line after a ``|``, which replaces the flags for that scan::

    LRALC8X7RJNZ5V | qty=250 | test=enzyme:有机磷:18.5
    https://trace.example.cn/t/LRALC8X7RJNZ5V | qty=300jin | test=gold:克伦特罗:negative

``qty=`` is the quantity received (a number, optionally followed by its unit: ``kg``, ``jin``,
``piece``, ``box``; default: none, and the server takes in the whole shipment to the market, or
all that the bringer holds, or nothing for a batch already in the market's stock), ``unit=`` its unit, and
``test=`` (repeatable) a rapid test ``METHOD:ITEM:VALUE[:UNIT][:RESULT]`` or
``METHOD:ITEM:RESULT``, and ``code=`` the holder's hand-over code (for this scan only): without a
shipment to the market, the server moves the stock only with it (else it records the check and
takes nothing). METHOD is ``enzyme_inhibition`` (``enzyme``, ``ei``),
``colloidal_gold`` (``gold``, ``cg``) or ``other``; RESULT is ``positive`` or ``negative``. An
enzyme-inhibition rate is in % and is positive from 50 (GB/T 5009.199); the other methods need
their result. The verdict: ACCEPT only when the batch's status is ``valid`` and no test is
positive; otherwise REJECT, and the inspection is recorded as rejected.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from scanner_client.i18n import N_, _

ENZYME_THRESHOLD = Decimal(50)
METHODS = {
    "enzyme_inhibition": "enzyme_inhibition",
    "enzyme": "enzyme_inhibition",
    "ei": "enzyme_inhibition",
    "colloidal_gold": "colloidal_gold",
    "gold": "colloidal_gold",
    "cg": "colloidal_gold",
    "other": "other",
}
RESULTS = {
    "positive": "positive",
    "pos": "positive",
    "+": "positive",
    "negative": "negative",
    "neg": "negative",
    "-": "negative",
}
_UNIT = re.compile(r"[a-z_]{1,20}")
#: The units as a Chinese gate writes them (the server's Unit values on the right).
CHINESE_UNITS = {"千克": "kg", "公斤": "kg", "斤": "jin", "件": "piece", "箱": "box"}
_QUANTITY = re.compile(r"([0-9]+(?:\.[0-9]+)?)\s*([A-Za-z_]*|千克|公斤|斤|件|箱)")
_HANDOVER = re.compile(r"[2-9A-HJ-NP-Z]{10}")
STATUS_REASONS = {
    "revoked": N_("certificate revoked"),
    "failed_inspection": N_("failed an earlier inspection"),
    "recalled": N_("batch recalled"),
    "suspicious": N_("code scanned far more often than the batch explains (a copied label?)"),
}
#: Test methods as shown (in English, the names typed after ``test=``).
METHOD_LABELS = {
    "enzyme_inhibition": N_("enzyme_inhibition"),
    "colloidal_gold": N_("colloidal_gold"),
    "other": N_("other"),
}
OUTCOME_LABELS = {"positive": N_("positive"), "negative": N_("negative")}


class OptionError(ValueError):
    """Options the operator typed that cannot be read; the message says what is wrong."""


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise OptionError(_("{what} must be a number, not {text!r}.").format(what=what, text=text)) from error
    if not value.is_finite() or value < 0:
        raise OptionError(
            _("{what} must be a number of 0 or more, not {text!r}.").format(what=what, text=text)
        )
    return value


@dataclass(frozen=True)
class RapidTest:
    """A rapid residue test (快检) done at the gate."""

    method: str
    item: str
    value: Decimal | None = None
    value_unit: str | None = None
    result: str | None = None

    @property
    def outcome(self) -> str | None:
        """``positive``/``negative``: the result given, else read from an enzyme-inhibition rate."""
        if self.result:
            return self.result
        if self.method == "enzyme_inhibition" and self.value is not None:
            return "positive" if self.value >= ENZYME_THRESHOLD else "negative"
        return None

    def describe(self) -> str:
        value = f" {self.value}{self.value_unit or ''}" if self.value is not None else ""
        method = _(METHOD_LABELS.get(self.method, self.method))
        outcome = _(OUTCOME_LABELS[self.outcome]) if self.outcome else ""
        return f"{method} {self.item}{value} {outcome}".strip()

    def to_json(self) -> dict[str, str]:
        data = {"method": self.method, "item": self.item}
        if self.value is not None:
            data["value"] = format(self.value, "f")
        if self.value_unit:
            data["value_unit"] = self.value_unit
        if self.result:
            data["result"] = self.result
        return data

    @classmethod
    def from_json(cls, data: dict[str, str]) -> RapidTest:
        value = Decimal(data["value"]) if data.get("value") is not None else None
        return cls(data["method"], data["item"], value, data.get("value_unit"), data.get("result"))


def parse_test(spec: str) -> RapidTest:
    """Read ``METHOD:ITEM:VALUE[:UNIT][:RESULT]`` or ``METHOD:ITEM:RESULT`` (module rules).

    Raises OptionError naming what is wrong.
    """
    parts = [part.strip() for part in spec.split(":")]
    if len(parts) < 3 or not parts[1]:
        raise OptionError(
            _("A test is METHOD:ITEM:VALUE or METHOD:ITEM:RESULT, not {spec!r}.").format(spec=spec)
        )
    method = METHODS.get(parts[0].lower())
    if method is None:
        raise OptionError(
            _("Unknown test method {method!r}: use enzyme_inhibition, colloidal_gold or other.").format(
                method=parts[0]
            )
        )
    value = unit = result = None
    for part in parts[2:]:
        if part.lower() in RESULTS:
            result = RESULTS[part.lower()]
        elif value is None:
            number = part.rstrip("%")
            value, unit = _decimal(number, _("A test value")), "%" if number != part else None
        elif unit is None and len(part) <= 20:
            unit = part
        else:
            raise OptionError(_("Cannot read {part!r} in the test {spec!r}.").format(part=part, spec=spec))
    if method == "enzyme_inhibition" and value is not None:
        unit = unit or "%"
    test = RapidTest(method, parts[1], value, unit, result)
    if test.outcome is None:
        needs = (
            _("The test {spec!r} needs its result (positive or negative) or an inhibition rate.")
            if method == "enzyme_inhibition"
            else _("The test {spec!r} needs its result (positive or negative).")
        )
        raise OptionError(needs.format(spec=spec))
    derived = RapidTest(method, parts[1], value, unit).outcome
    if method == "enzyme_inhibition" and result and derived and result != derived:
        raise OptionError(
            _(
                "In {spec!r} the inhibition rate and the result disagree ({threshold}% or more is positive)."
            ).format(spec=spec, threshold=ENZYME_THRESHOLD)
        )
    return test


def parse_quantity(text: str) -> tuple[str, str | None]:
    """``250``, ``250kg`` or ``2.5 jin`` → (quantity as a decimal string, unit or None).

    Raises OptionError.
    """
    match = _QUANTITY.fullmatch(text.strip())
    if not match or Decimal(match[1]) <= 0:
        raise OptionError(
            _("A quantity is a positive number with an optional unit, like 250kg, not {text!r}.").format(
                text=text
            )
        )
    return format(Decimal(match[1]), "f"), parse_unit(match[2]) if match[2] else None


def parse_unit(text: str) -> str:
    """A unit name (``kg``, ``jin``, ``piece``, ``box``, or 千克, 斤, 件, 箱; the server checks it).
    Raises OptionError."""
    unit = CHINESE_UNITS.get(text.strip(), text.strip().lower())
    if not _UNIT.fullmatch(unit):
        raise OptionError(_("A unit is a word like kg, jin, piece or box, not {text!r}.").format(text=text))
    return unit


@dataclass(frozen=True)
class GateOptions:
    """What the operator says about one scan: quantity received, its unit, rapid tests."""

    quantity: str | None = None
    unit: str | None = None
    tests: tuple[RapidTest, ...] = ()
    #: The holder's hand-over code: good once, so it is never a session-wide flag.
    handover: str | None = None

    def over(self, base: GateOptions) -> GateOptions:
        """These options where given, else ``base``'s (inline options over the session's flags)."""
        if self.quantity:
            quantity, unit = self.quantity, self.unit
        else:
            quantity, unit = base.quantity, self.unit or base.unit
        return GateOptions(quantity, unit, self.tests or base.tests, self.handover)

    def check(self) -> GateOptions:
        """Raises OptionError for a unit without a quantity (it would mislabel the certificate's)."""
        if self.unit and not self.quantity:
            raise OptionError(_("A unit needs a quantity: give qty=NUMBER too."))
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "quantity": self.quantity,
            "unit": self.unit,
            "tests": [test.to_json() for test in self.tests],
            "handover": self.handover,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> GateOptions:
        return cls(
            data.get("quantity"),
            data.get("unit"),
            tuple(RapidTest.from_json(test) for test in data.get("tests") or []),
            data.get("handover"),
        )


def split_line(line: str) -> tuple[str, str | None]:
    """The scanned payload and the inline options after the first ``|`` (None if there is none)."""
    payload, bar, options = line.partition("|")
    return payload, options if bar else None


def parse_options(text: str) -> GateOptions:
    """Inline options ``qty=.. unit=.. test=..``, separated by ``|`` or blanks. Raises OptionError."""
    quantity = unit = handover = None
    tests: list[RapidTest] = []
    for token in text.replace("|", " ").split():
        key, equals, value = token.partition("=")
        key = key.lower()
        if not equals or not value:
            raise OptionError(
                _("Expected key=value (qty=, unit=, test=, code=), not {token!r}.").format(token=token)
            )
        if key in ("qty", "quantity", "q"):
            quantity, given_unit = parse_quantity(value)
            unit = given_unit or unit
        elif key in ("unit", "u"):
            unit = parse_unit(value)
        elif key in ("test", "t"):
            tests.append(parse_test(value))
        elif key in ("code", "handover"):
            handover = parse_handover(value)
        else:
            raise OptionError(_("Unknown option {key!r}: use qty=, unit=, test= or code=.").format(key=key))
    return GateOptions(quantity, unit, tuple(tests), handover)


def parse_handover(text: str) -> str:
    """A hand-over code as typed (``ABCDE-FGHJK``, any case) → ``ABCDEFGHJK``. Raises OptionError."""
    code = text.replace("-", "").upper()
    if not _HANDOVER.fullmatch(code):
        raise OptionError(
            _("A hand-over code has 10 letters and digits, like ABCDE-FGHJK, not {text!r}.").format(text=text)
        )
    return code


# -- the batch, the verdict, the body ----------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """What the gate needs from ``GET /api/v1/codes/{code}``; also what the cache keeps."""

    trace_code: str
    status: str
    product_name: str = ""
    producer: str = ""
    quantity: str = ""
    unit: str = ""
    revoked_at: str | None = None
    revoked_reason: str | None = None

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Summary:
        """Read the server's answer, tolerating fields it does not send."""
        certificate = document.get("certificate") or {}
        revocation = certificate.get("revocation") or {}
        return cls(
            trace_code=str(document.get("trace_code", "")),
            status=str(document.get("status") or "unknown"),
            product_name=str(certificate.get("product_name") or ""),
            producer=str((certificate.get("producer") or {}).get("name") or ""),
            quantity=str(certificate.get("quantity") or ""),
            unit=str(certificate.get("unit") or ""),
            revoked_at=revocation.get("at"),
            revoked_reason=revocation.get("reason"),
        )

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Summary:
        return cls(**{key: data.get(key) for key in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Decision:
    """The verdict and what it records: ``certificate_status`` and ``result`` of the event."""

    accept: bool
    reasons: tuple[str, ...]
    certificate_status: str
    result: str


def decide(summary: Summary, options: GateOptions) -> Decision:
    """ACCEPT only a ``valid`` batch with no positive test; anything else is REJECT with reasons.

    A status the client does not know (a newer server) is a REJECT: the gate never lets in a
    batch it cannot read as valid.
    """
    reasons: list[str] = []
    if summary.status != "valid":
        known = STATUS_REASONS.get(summary.status)
        reason = _(known) if known else _("status {status}").format(status=summary.status)
        if summary.status == "revoked" and summary.revoked_reason:
            reason = _("{reason}: {why}").format(reason=reason, why=summary.revoked_reason)
        reasons.append(reason)
    reasons += [
        _("rapid test positive: {test}").format(test=test.describe())
        for test in options.tests
        if test.outcome == "positive"
    ]
    revoked = summary.status == "revoked" or summary.revoked_at is not None
    return Decision(
        not reasons, tuple(reasons), "revoked" if revoked else "valid", "rejected" if reasons else "accepted"
    )


def inspection_body(
    *,
    event_id: str,
    code: str,
    occurred_at: str,
    summary: Summary,
    options: GateOptions,
    location: str | None,
) -> str:
    """The exact JSON of ``POST /api/v1/events`` for this gate check (compact, UTF-8 text)."""
    decision = decide(summary, options)
    body: dict[str, Any] = {
        "event_id": event_id,
        "kind": "inspecting",
        "occurred_at": occurred_at,
        "trace_code": code,
        "certificate_status": decision.certificate_status,
        "result": decision.result,
    }
    if options.quantity:  # else the server takes in the whole shipment, or all the bringer holds
        body["quantity"], body["unit"] = options.quantity, options.unit or summary.unit
    if location:
        body["location"] = location
    if options.tests:
        body["tests"] = [test.to_json() for test in options.tests]
    if options.handover:
        body["handover_code"] = options.handover
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
