"""From a certificate to printable labels: the translated label content, then ``labels`` renders.

Kept apart from ``queries``: this is presentation for print, built in the label's own language
(Chinese by default, as the national template), not in the browser's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from marshmallow import Schema
from sqlalchemy.orm import object_session

from traceapp import codes, db, gs1, regions, zones
from traceapp.certificates.models import Basis, Certificate, Commitment
from traceapp.certificates.queries import mask_phone
from traceapp.certificates.schemas import (
    CaseLabelQuery,
    CaseReceiptQuery,
    LabelQuery,
    ReceiptQuery,
    SheetQuery,
)
from traceapp.certificates.texts import BASIS_LABELS, COMMITMENT_LABELS, COMMITMENTS_SHORT, quantity_text
from traceapp.errors import Conflict
from traceapp.labels import case, printers, render
from traceapp.orgs import seals
from traceapp.resolver import links

LOCALES = {"zh": "zh_CN", "en": "en"}


@dataclass(frozen=True)
class LabelFile:
    """One printable file of a certificate, as the API and the pages serve it."""

    filename: str  #: the last URL segment, ``label.pdf``
    kind: str  #: what ``render_label`` draws
    mimetype: str  #: the Content-Type, parameters included
    query: type[Schema] | None  #: its query parameters, if it takes any
    summary: str  #: the OpenAPI summary of its URL
    saved: bool = False  #: a printer job, not a picture: the browser saves it (``attachment``)

    @property
    def media_type(self) -> str:
        """The content type without its parameters, as the OpenAPI document keys it."""
        return self.mimetype.split(";")[0]


#: ZPL is 7-bit text (hex graphic data): ``text/plain`` with its charset, so a browser shows
#: it and a proxy leaves it alone; no media type is registered for ZPL. TSPL carries its
#: bitmap as raw bytes and ESC/POS is binary throughout: ``application/octet-stream``.
ZPL_TYPE = "text/plain; charset=us-ascii"
PRINTER_JOB_TYPE = "application/octet-stream"
PRINTER_KINDS = ("zpl", "tspl", "escpos")


LABEL_FILES = {
    label.filename: label
    for label in (
        LabelFile("qr.png", "qr", "image/png", None, "The QR code alone, as PNG."),
        LabelFile(
            "label.png",
            "png",
            "image/png",
            LabelQuery,
            "One label as PNG at 203 or 300 dpi, for label printers.",
        ),
        LabelFile(
            "label.pdf",
            "pdf",
            "application/pdf",
            LabelQuery,
            "Labels as PDF, one label per page at the label's size, ``copies`` pages.",
        ),
        LabelFile(
            "sheet.pdf",
            "sheet",
            "application/pdf",
            SheetQuery,
            "An A4 sheet of labels (a full sheet unless ``copies`` says otherwise).",
        ),
        LabelFile(
            "label.zpl",
            "zpl",
            ZPL_TYPE,
            LabelQuery,
            "One label in ZPL II (Zebra and compatibles) at 203 or 300 dpi: the label as a "
            "^GF bitmap (Chinese included), ``copies`` labels (^PQ). Send it to the printer raw.",
            saved=True,
        ),
        LabelFile(
            "label.tspl",
            "tspl",
            PRINTER_JOB_TYPE,
            LabelQuery,
            "One label in TSPL (TSC, Gprinter, Xprinter and most label printers sold in China) "
            "at 203 or 300 dpi: SIZE, GAP, CLS, the label as a BITMAP, PRINT ``copies``.",
            saved=True,
        ),
        LabelFile(
            "label.escpos",
            "escpos",
            PRINTER_JOB_TYPE,
            ReceiptQuery,
            "The certificate as an ESC/POS receipt for a 58 or 80 mm receipt printer (203 dpi): "
            "a GS v 0 raster image, fed and cut, ``copies`` times.",
            saved=True,
        ),
        LabelFile(
            "case.png",
            "case_png",
            "image/png",
            CaseLabelQuery,
            "A PTI case label (100x50 mm): GS1-128 (01) GTIN, (13) pack date, (10) lot, the voice "
            "pick code and the QR, as PNG at 203 or 300 dpi. Needs the batch's GTIN.",
        ),
        LabelFile(
            "case.pdf",
            "case_pdf",
            "application/pdf",
            CaseLabelQuery,
            "The case label as PDF, one label per page, ``copies`` pages.",
        ),
        LabelFile(
            "case.zpl",
            "case_zpl",
            ZPL_TYPE,
            CaseLabelQuery,
            "The case label (100x50 mm) in ZPL II at 203 or 300 dpi: the label as a ^GF bitmap "
            "(Chinese included), ``copies`` labels (^PQ). Needs the batch's GTIN.",
            saved=True,
        ),
        LabelFile(
            "case.tspl",
            "case_tspl",
            PRINTER_JOB_TYPE,
            CaseLabelQuery,
            "The case label (100x50 mm) in TSPL at 203 or 300 dpi: SIZE, GAP, CLS, the label as a "
            "BITMAP, PRINT ``copies``. Needs the batch's GTIN.",
            saved=True,
        ),
        LabelFile(
            "case.escpos",
            "case_escpos",
            PRINTER_JOB_TYPE,
            CaseReceiptQuery,
            "The case label as ESC/POS for a 58 or 80 mm receipt printer (203 dpi), turned a "
            "quarter so its 50 mm side runs across the roll: GS v 0 raster, cut, ``copies`` times.",
            saved=True,
        ),
        LabelFile(
            "share.png", "share", "image/png", None, "The e-certificate image, for sharing in a chat app."
        ),
    )
}


def label_headers(certificate: Certificate, label: LabelFile, args: dict[str, Any]) -> dict[str, str]:
    """Headers of a label file: shown inline (a phone opens it), saved under a name that says
    which batch and size it is (``7U4EY7JBATZVJW-label-40x30-203dpi.png``), never cached."""
    stem, ext = label.filename.rsplit(".", 1)
    parts = [certificate.trace_code, stem]
    if args.get("size") and label.kind in ("png", "pdf", "zpl", "tspl"):
        parts.append(args["size"])
    if args.get("dpi") and label.kind in ("png", "zpl", "tspl", "case_png", "case_zpl", "case_tspl"):
        parts.append(f"{args['dpi']}dpi")
    if args.get("paper"):
        parts.append(f"{args['paper']}mm")
    disposition = "attachment" if label.saved else "inline"
    return {
        "Content-Disposition": f'{disposition}; filename="{"-".join(parts)}.{ext}"',
        "Cache-Control": "private, no-store",
    }


def label_content(
    certificate: Certificate,
    *,
    base_url: str,
    lang: str = "zh",
    zone: str | None = None,
    public: bool = False,
) -> render.LabelContent:
    """The label of a certificate: heading, fields, commitments, basis, QR payload and code;
    its dates in ``zone``, the issuing organisation's time zone (looked up when not given).
    ``public``: for anyone to fetch (the public share image), the phone masked as on the page."""
    zone = zone or _issuer_zone(certificate)
    seal = seals.seal_for_label(object_session(certificate) or db.session(), certificate.seal_id)
    with force_locale(LOCALES[lang]):
        return render.LabelContent(
            heading=_heading(lang),
            fields=_fields(certificate, zone, public),
            commitments=[str(COMMITMENT_LABELS[Commitment(c)]) for c in certificate.commitments],
            commitments_short=str(COMMITMENTS_SHORT),
            basis=[str(BASIS_LABELS[Basis(b)]) for b in certificate.basis],
            qr_payload=links.label_url(object_session(certificate) or db.session(), certificate, base_url),
            code_text=codes.format_trace_code(certificate.trace_code),
            status_note=_("REVOKED") if certificate.is_revoked else None,
            seal_png=seal[0] if seal else None,
            seal_px=seal[1] if seal else None,
        )


def _heading(lang: str) -> str:
    # The legal name stays in Chinese on every label; English labels add a translation.
    return "承诺达标合格证" if lang == "zh" else "承诺达标合格证 Compliance Certificate"


def _issuer_zone(certificate: Certificate) -> str:
    return zones.org_zone(object_session(certificate) or db.session(), certificate.org_id)


def _fields(certificate: Certificate, zone: str, public: bool = False) -> list[tuple[str, str]]:
    origin = regions.place(certificate.origin_region_code, certificate.origin_address)
    rows = [
        (_("Product"), certificate.product_name),
        (_("Quantity"), quantity_text(certificate.quantity, certificate.unit)),
        (_("Origin"), f"{origin} ({certificate.origin_region_code})"),
        (_("Producer"), certificate.producer_name),
        # A printed certificate carries the full contact phone, as the paper template does;
        # only the public web page masks it.
        (
            _("Phone"),
            (mask_phone(certificate.producer_phone) if public else certificate.producer_phone) or "",
        ),
        (_("Issued"), certificate.issued_at.astimezone(ZoneInfo(zone)).date().isoformat()),
    ]
    if certificate.harvest_date:
        rows.append((_("Harvested"), certificate.harvest_date.isoformat()))
    if certificate.batch_no:
        rows.append((_("Batch"), certificate.batch_no))
    return [(label, value) for label, value in rows if value]


def render_label(certificate: Certificate, kind: str, args: dict[str, Any], *, base_url: str) -> bytes:
    """Render one of the label files (``qr``, ``png``, ``pdf``, ``zpl``, ``tspl``, ``escpos``,
    ``sheet``, ``share``)."""
    if kind == "qr":  # the code's URL alone: no label text to translate and format
        return render.qr_png(
            links.label_url(object_session(certificate) or db.session(), certificate, base_url)
        )
    if kind.startswith("case_"):
        content = case_label_content(
            certificate, base_url=base_url, lang=args["lang"], pack_date=args.get("pack_date")
        )
        return render_case(content, kind.removeprefix("case_"), args)
    content = label_content(certificate, base_url=base_url, lang=args.get("lang", "zh"))
    if kind == "png":
        return render.label_png(content, size=args["size"], dpi=args["dpi"])
    if kind == "pdf":
        return render.label_pdf(content, size=args["size"], copies=args["copies"])
    if kind == "zpl":
        return printers.zpl(content, size=args["size"], dpi=args["dpi"], copies=args["copies"])
    if kind == "tspl":
        return printers.tspl(content, size=args["size"], dpi=args["dpi"], copies=args["copies"])
    if kind == "escpos":
        return printers.escpos(content, paper=args["paper"], copies=args["copies"])
    if kind == "sheet":
        return render.sheet_pdf(content, sheet=args["sheet"], copies=args["copies"])
    return render.share_png(content)


def render_case(content: case.CaseContent, ext: str, args: dict[str, Any]) -> bytes:
    """A case or pallet label as ``png``, ``pdf``, ``zpl``, ``tspl`` or ``escpos``."""
    if ext == "png":
        return case.case_png(content, dpi=args["dpi"])
    if ext == "pdf":
        return case.case_pdf(content, copies=args["copies"])
    if ext == "zpl":
        return printers.case_zpl(content, dpi=args["dpi"], copies=args["copies"])
    if ext == "tspl":
        return printers.case_tspl(content, dpi=args["dpi"], copies=args["copies"])
    return printers.case_escpos(content, paper=args["paper"], copies=args["copies"])


class NoGtin(Conflict):
    slug = "no-gtin"


def case_lot(certificate: Certificate) -> str:
    """The lot a case label carries in (10): the producer's batch number when GS1 can carry it
    (1 to 20 characters of the 82-character set), else the trace code."""
    lot = certificate.batch_no or ""
    return lot if _CSET82.fullmatch(lot) else certificate.trace_code


_CSET82 = re.compile(r"""[!"%&'()*+,\-./0-9:;<=>?A-Z_a-z]{1,20}""")


def case_label_content(
    certificate: Certificate, *, base_url: str, lang: str = "zh", pack_date: date | None = None
) -> case.CaseContent:
    """A PTI case label of a batch with a GTIN: the barcode's element strings, the voice pick
    code of the same GTIN, lot and pack date, and the rows beside the QR. Raises NoGtin (409: the
    request is well formed, the batch is not one that has a case label) for a batch without one."""
    if not certificate.gtin:
        raise NoGtin(_("A case label needs the batch's GTIN; this batch has none."))
    gtin14 = certificate.gtin.zfill(14)
    lot = case_lot(certificate)
    elements = [("01", gtin14), ("10", lot)]
    if pack_date:
        elements.insert(1, ("13", pack_date.strftime("%y%m%d")))
    with force_locale(LOCALES[lang]):
        rows = [
            (_("Lot"), lot),
            (_("Quantity"), quantity_text(certificate.quantity, certificate.unit)),
            (_("Producer"), certificate.producer_name),
        ]
        if pack_date:
            rows.append((_("Packed"), pack_date.isoformat()))
        rows.append((_("Trace code"), codes.format_trace_code(certificate.trace_code)))
        return case.CaseContent(
            title=certificate.product_name,
            elements=tuple(elements),
            lines=tuple((label, value) for label, value in rows if value),
            qr_payload=links.label_url(object_session(certificate) or db.session(), certificate, base_url),
            voice_pick=gs1.voice_pick_code(gtin14, lot, pack_date),
            status_note=_("REVOKED") if certificate.is_revoked else None,
        )


def public_share_png(certificate: Certificate, *, base_url: str, lang: str) -> bytes:
    """The share image anyone may fetch (the public page's Open Graph image): the phone masked."""
    return render.share_png(label_content(certificate, base_url=base_url, lang=lang, public=True))
