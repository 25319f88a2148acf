"""Labels in the command languages of thermal printers: ZPL, TSPL and ESC/POS.

Every one carries the label as a bitmap rendered by :mod:`.render` at the printer's
resolution (1 bit, no dithering): printers have no CJK font, or one that differs from
model to model, so the Chinese text is drawn here, once, exactly as on the PNG and PDF.

- **ZPL** (Zebra and compatibles): ``^XA ^PW ^LL ^FO0,0 ^GFA ... ^FS ^PQ ^XZ``, the
  ``^GF`` data in ASCII hex with ZPL's run-length compression (every ZPL II printer and
  clone reads it; the Z64 form needs newer Zebra firmware), encoded by zebrafy.
- **TSPL/TSPL2** (TSC, Gprinter, Xprinter and most label printers sold in China):
  ``SIZE``, ``GAP``, ``DIRECTION``, ``DENSITY``, ``CLS``, ``BITMAP`` (raw bytes, a 0 bit
  is a printed dot), ``PRINT 1,copies``.
- **ESC/POS** (58 and 80 mm receipt printers): ``ESC @``, the receipt as ``GS v 0``
  raster images, a cut after each copy, built by python-escpos with the printer
  profile's dot width checked. ESC/POS has no copy count, so the image is repeated: its
  copies stop at ``MAX_RECEIPT_COPIES`` (ZPL's ``^PQ`` and TSPL's ``PRINT 1,n`` send the
  bitmap once whatever the count).

One encoder per language (``zpl_job``, ``tspl_job``, ``escpos_job``) takes the 1-bit image;
the certificate label (``zpl``…) and the case and pallet label (``case_zpl``…) feed it theirs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from functools import cache
from typing import Any

from PIL import Image
from zebrafy.graphic_field import GraphicField

from .case import CASE_SIZE, CaseContent, case_image
from .layouts import (
    MAX_RECEIPT_COPIES,
    RECEIPT_DPI,
    RECEIPT_PAPERS,
    LabelContent,
    LabelSize,
    ReceiptPaper,
    check_copies,
    check_dpi,
    label_size,
)
from .render import label_image

__all__ = ["case_escpos", "case_tspl", "case_zpl", "escpos", "tspl", "zpl"]

ZPL_MAX_FIELD_BYTES = 99999  # the ZPL II guide's range of ^GF's byte and field counts
TSPL_GAP_MM = 2  # the gap between die-cut labels on the common rolls (the printer calibrates it)
TSPL_DENSITY = 8  # print darkness 0-15: the manual's default
ESCPOS_FRAGMENT = 960  # GS v 0 images taller than this are sent in slices (some printers cap at 2303)


def zpl(content: LabelContent, size: str = "60x40", dpi: int = 203, copies: int = 1) -> bytes:
    """One certificate label as a ZPL II format (see :func:`zpl_job`)."""
    check_copies(copies)
    check_dpi(dpi)
    return zpl_job(label_image(content, label_size(size), dpi), copies)


def tspl(content: LabelContent, size: str = "60x40", dpi: int = 203, copies: int = 1) -> bytes:
    """One certificate label as a TSPL job (see :func:`tspl_job`)."""
    check_copies(copies)
    check_dpi(dpi)
    label = label_size(size)
    return tspl_job(label_image(content, label, dpi), label, copies)


def escpos(content: LabelContent, paper: str = "58", copies: int = 1) -> bytes:
    """The certificate as a receipt for a 58 or 80 mm receipt printer (see :func:`escpos_job`)."""
    check_copies(copies, MAX_RECEIPT_COPIES)
    roll = RECEIPT_PAPERS[paper]
    return escpos_job(label_image(content, roll.label, RECEIPT_DPI), roll, copies)


def case_zpl(content: CaseContent, dpi: int = 203, copies: int = 1) -> bytes:
    """A case or pallet label (100x50 mm) as a ZPL II format."""
    check_copies(copies)
    return zpl_job(case_image(content, dpi), copies)


def case_tspl(content: CaseContent, dpi: int = 203, copies: int = 1) -> bytes:
    """A case or pallet label (100x50 mm) as a TSPL job."""
    check_copies(copies)
    return tspl_job(case_image(content, dpi), CASE_SIZE, copies)


def case_escpos(content: CaseContent, paper: str = "80", copies: int = 1) -> bytes:
    """A case or pallet label on a receipt roll, turned a quarter so its 50 mm side runs across
    the paper: it fits 80 mm paper (72 mm printed) with white beside it, and 58 mm paper (48 mm
    printed) once 1 mm of its 3 mm white margin is trimmed on each side. Raises ValueError if
    trimming would cut ink (never for our layout; a check, not a silent crop)."""
    check_copies(copies, MAX_RECEIPT_COPIES)
    roll = RECEIPT_PAPERS[paper]
    turned = case_image(content, RECEIPT_DPI).transpose(Image.Transpose.ROTATE_90)
    dots = round(roll.label.width_mm * RECEIPT_DPI / 25.4)
    left = (turned.width - dots) // 2
    if left > 0 and (
        _has_ink(turned.crop((0, 0, left, turned.height)))
        or _has_ink(turned.crop((left + dots, 0, turned.width, turned.height)))
    ):
        raise ValueError(f"the label does not fit {paper} mm paper")
    receipt = Image.new("1", (dots, turned.height), 1)
    receipt.paste(turned, (-left, 0))
    return escpos_job(receipt, roll, copies)


def _has_ink(image: Image.Image) -> bool:
    return image.width > 0 and image.getextrema()[0] == 0


def zpl_job(image: Image.Image, copies: int) -> bytes:
    """A 1-bit image as a ZPL II format: ``^XA ^PW ^LL ^LH``, the bitmap from the origin down
    in bands of at most ``ZPL_MAX_FIELD_BYTES`` (a ``^GF`` field's counts go to 99999: a 100x70
    label at 300 dpi needs two), ``copies`` labels (``^PQ``), ``^XZ``."""
    width, height = image.size
    band = ZPL_MAX_FIELD_BYTES // ((width + 7) // 8)
    commands = ["^XA", f"^PW{width}", f"^LL{height}", "^LH0,0"]
    for top in range(0, height, band):
        piece = image.crop((0, top, width, min(top + band, height)))
        field = GraphicField(piece, format="ASCII_COMPRESSED").get_graphic_field()
        commands.append(f"^FO0,{top}{field}")
    commands += [f"^PQ{copies}", "^XZ"]
    return ("\n".join(commands) + "\n").encode("ascii")


def tspl_job(image: Image.Image, label: LabelSize, copies: int) -> bytes:
    """A 1-bit image as a TSPL job: media size in mm, the bitmap at the origin, ``copies`` labels."""
    width_bytes, height = (image.size[0] + 7) // 8, image.size[1]
    head = "\r\n".join(
        [
            f"SIZE {label.width_mm:g} mm,{label.height_mm:g} mm",
            f"GAP {TSPL_GAP_MM} mm,0 mm",
            "DIRECTION 0",
            "REFERENCE 0,0",
            f"DENSITY {TSPL_DENSITY}",
            "CLS",
            f"BITMAP 0,0,{width_bytes},{height},0,",
        ]
    )
    # A mode "1" image packs rows MSB first, padded to whole bytes, 1 = white: what BITMAP
    # reads (its 0 bits are the printed dots). The padding bits stay 0 in Pillow's output:
    # they would print a black line on the right edge, so the image is padded white first.
    padded = Image.new("1", (width_bytes * 8, height), 1)
    padded.paste(image, (0, 0))
    return head.encode("ascii") + padded.tobytes() + f"\r\nPRINT 1,{copies}\r\n".encode("ascii")


def escpos_job(image: Image.Image, roll: ReceiptPaper, copies: int) -> bytes:
    """A 1-bit image as a receipt: initialise, then for each copy the image (``GS v 0``), a
    feed and a cut. ESC/POS has no copy count: the job grows with ``copies`` (capped by the
    callers at ``MAX_RECEIPT_COPIES``)."""
    printer = _escpos_dummy()(profile=roll.profile)
    printer.hw("INIT")
    for _ in range(copies):
        printer.image(image, impl="bitImageRaster", fragment_height=ESCPOS_FRAGMENT)
        printer.cut()
    return printer.output


@cache
def _escpos_dummy() -> Any:
    """python-escpos' in-memory printer, imported on first use: the import parses its printer
    database (0.4 s), so the app's start does not pay it. The library caches the parsed
    database in a temporary folder it never removes; ours is removed when the process ends
    (one per process: workers writing one shared cache at once could read it half written)."""
    if "ESCPOS_CAPABILITIES_PICKLE_DIR" not in os.environ:
        folder = tempfile.mkdtemp(prefix="traceapp-escpos-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        os.environ["ESCPOS_CAPABILITIES_PICKLE_DIR"] = folder
    from escpos.printer import Dummy

    return Dummy
