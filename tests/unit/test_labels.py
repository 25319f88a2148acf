"""Tests for traceapp.labels: geometry, text fitting, fonts, QR round trips.

The PDF tests rasterise with ``pdftoppm`` (Debian package poppler-utils).
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import shutil
import string
import subprocess
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import pytest
import qrcode
import zxingcpp
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q
from reportlab.pdfbase.ttfonts import TTFontFile

from traceapp.labels import compose, qr
from traceapp.labels.compose import MIN_MODULE_MM, Layout
from traceapp.labels.layouts import DPI_CHOICES, LABEL_SIZES, SHEETS, LabelContent, sheet_positions
from traceapp.labels.ops import QrOp, RectOp, TextOp
from traceapp.labels.render import (
    METRICS,
    font_path,
    label_pdf,
    label_png,
    layout_label,
    missing_glyphs,
    qr_matrix,
    qr_png,
    share_png,
    sheet_pdf,
)
from traceapp.labels.text import DENSITIES, FIXED_TEXT, FLOOR_PT, HEADING, clamp_lines, point_sizes, wrap

PAYLOAD = "https://trace.example.cn/c/7KQM9XR2HT4W3C"
CONTENT = LabelContent(
    heading=HEADING,
    fields=[
        ("产品", "大白菜"),
        ("数量", "500 kg"),
        ("产地", "湖北省武汉市黄陂区木兰乡 (420116)"),
        ("生产者", "木兰合作社"),
        ("电话", "138****5678"),
        ("开具日期", "2026-11-20"),
        ("采收日期", "2026-11-19"),
    ],
    commitments=[
        "不使用禁用农药兽药、停用兽药和非法添加物",
        "常规农药兽药残留不超标",
        "对承诺的真实性负责",
    ],
    basis=["委托检测", "内部质量控制"],
    qr_payload=PAYLOAD,
    code_text="7KQM-9XR2-HT4W-3C",
)
REVOKED = replace(CONTENT, status_note="已撤销 REVOKED")
ENGLISH = LabelContent(
    heading="承诺达标合格证 Compliance Certificate",
    fields=[
        ("Product", "Chinese cabbage"),
        ("Quantity", "500 kg"),
        ("Origin", "湖北省武汉市黄陂区木兰乡 (420116)"),
        ("Producer", "木兰合作社"),
        ("Phone", "13812345678"),
        ("Issued", "2026-11-20"),
        ("Harvested", "2026-11-19"),
        ("Batch", "B-2026-11-19-07"),
    ],
    commitments=[
        "No banned pesticides or veterinary drugs, no withdrawn veterinary drugs, no illegal additives",
        "Residues of ordinary pesticides and veterinary drugs within limits",
        "Responsible for the truth of this commitment",
    ],
    commitments_short="No banned drugs · Residues within limits · Truthful",
    basis=["Commissioned lab test", "Internal quality control"],
    qr_payload=PAYLOAD,
    code_text="7KQM-9XR2-HT4W-3C",
    status_note="REVOKED",
)
MM_TO_PT = 72 / 25.4


def decode(image: Image.Image) -> list[str]:
    """Texts of every barcode zxing-cpp finds."""
    return [result.text for result in zxingcpp.read_barcodes(image)]


def pdf_pages(pdf: bytes) -> int:
    """Number of page objects (reportlab writes no object streams)."""
    return len(re.findall(rb"/Type /Page\b", pdf))


def pdf_media_boxes(pdf: bytes) -> set[tuple[float, float]]:
    """Distinct page sizes in points."""
    boxes = re.findall(rb"/MediaBox \[ 0 0 ([\d.]+) ([\d.]+) \]", pdf)
    return {(float(w), float(h)) for w, h in boxes}


def rasterise(pdf: bytes, tmp_path: Path, dpi: int) -> Image.Image:
    """First page of a PDF as a greyscale image, via poppler's pdftoppm."""
    assert shutil.which("pdftoppm"), "install poppler-utils for the PDF tests"
    source = tmp_path / "label.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-gray",
            "-png",
            "-singlefile",
            "-f",
            "1",
            str(source),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    return Image.open(tmp_path / "page.png").convert("L")


# --------------------------------------------------------------------------
# QR codes
# --------------------------------------------------------------------------


@pytest.mark.parametrize("payload", [PAYLOAD, "HTTPS://TRACE.EXAMPLE.CN/C/7KQM9XR2HT4W3C", "7KQM9XR2HT4W3C"])
def test_qr_png_round_trips(payload):
    image = Image.open(io.BytesIO(qr_png(payload)))
    assert decode(image) == [payload]


def test_qr_png_geometry():
    image = Image.open(io.BytesIO(qr_png(PAYLOAD, box_px=3, border=4)))
    assert image.size[0] == (len(qr_matrix(PAYLOAD)) + 8) * 3
    assert image.mode == "1"


def test_uppercase_payload_uses_alphanumeric_mode():
    assert len(qr_matrix(PAYLOAD.upper())) <= len(qr_matrix(PAYLOAD.lower()))
    longer = "HTTPS://TRACE.EXAMPLE.CN/C/7KQM9XR2HT4W3CABCDEFGHJKMNPQ"  # 57 characters
    assert len(qr_matrix(longer)) < len(qr_matrix(longer.lower()))  # version 3 vs 4


def qrcode_matrix(payload: str, level: int) -> tuple[tuple[bool, ...], ...]:
    """What the qrcode library makes of ``payload`` at ``level``, its eight trial masks and all."""
    symbol = qrcode.QRCode(error_correction=level, border=0)
    symbol.add_data(payload)
    symbol.make(fit=True)
    return tuple(tuple(row) for row in symbol.get_matrix())


QR_PAYLOADS = [
    PAYLOAD,
    PAYLOAD.upper(),
    "7KQM9XR2HT4W3C",
    "12345678901234567890123456789012345",  # numeric, with a short tail group
    "https://trace.example.cn/t/7KQM-9XR2-HT4W-3C?lang=zh&from=label",
    "承诺达标合格证 7KQM-9XR2-HT4W-3C",  # bytes (UTF-8)
    "HTTPS://TRACE.EXAMPLE.CN/C/" + "7KQM9XR2HT4W3C" * 12,  # version 7 and up: version info
    "https://trace.example.cn/c/" + "7kqm9xr2ht4w3c0123456789" * 14,  # mixed segments, large
]


@pytest.mark.parametrize("level", [ERROR_CORRECT_L, ERROR_CORRECT_M, ERROR_CORRECT_Q, ERROR_CORRECT_H])
@pytest.mark.parametrize("payload", QR_PAYLOADS)
def test_the_symbol_built_once_is_the_one_qrcode_builds_eight_times(payload, level):
    assert qr.build(payload, level) == qrcode_matrix(payload, level)


def test_random_payloads_build_the_same_symbols_as_qrcode():
    rng = random.Random(20261203)
    alphabet = string.ascii_letters + string.digits + "/:.-?=&% 中文"
    for _ in range(60):
        payload = "".join(rng.choice(alphabet) for _ in range(rng.choice([1, 14, 41, 90, 250])))
        level = rng.choice([ERROR_CORRECT_M, ERROR_CORRECT_Q])
        assert qr.build(payload, level) == qrcode_matrix(payload, level), (payload, level)


def test_labels_use_level_q_unless_it_needs_a_larger_symbol():
    same = PAYLOAD + "/zh"  # 33 modules at M and at Q
    assert len(qrcode_matrix(same, ERROR_CORRECT_M)) == len(qrcode_matrix(same, ERROR_CORRECT_Q))
    assert qr_matrix(same) == qrcode_matrix(same, ERROR_CORRECT_Q)
    assert len(qrcode_matrix(PAYLOAD, ERROR_CORRECT_Q)) > len(qrcode_matrix(PAYLOAD, ERROR_CORRECT_M))
    assert qr_matrix(PAYLOAD) == qrcode_matrix(PAYLOAD, ERROR_CORRECT_M)


@pytest.mark.parametrize(
    "size, dpi, content",
    [
        ("40x30", 203, CONTENT),
        ("60x40", 300, CONTENT),
        ("50x30", 300, REVOKED),
        ("100x70", 203, REVOKED),
    ],
)
def test_label_png_decodes_and_is_one_bit(size, dpi, content):
    image = Image.open(io.BytesIO(label_png(content, size, dpi)))
    assert decode(image) == [PAYLOAD]
    assert image.mode == "1"
    assert image.info["dpi"] == pytest.approx((dpi, dpi), abs=0.01)
    label = LABEL_SIZES[size]
    assert image.size == (round(label.width_mm * dpi / 25.4), round(label.height_mm * dpi / 25.4))


@pytest.mark.parametrize("dpi", DPI_CHOICES)
@pytest.mark.parametrize("size", sorted(LABEL_SIZES))
def test_qr_modules_are_whole_pixels_and_big_enough(size, dpi):
    (qr,) = [op for op in layout_label(CONTENT, size, dpi).ops if isinstance(op, QrOp)]
    pixels = qr.module_mm * dpi / 25.4
    assert pixels == pytest.approx(round(pixels), abs=1e-6)
    assert qr.module_mm >= MIN_MODULE_MM - 1e-9
    assert (qr.x_mm * dpi / 25.4) == pytest.approx(round(qr.x_mm * dpi / 25.4), abs=1e-6)


def test_share_png_decodes():
    image = Image.open(io.BytesIO(share_png(CONTENT)))
    assert decode(image) == [PAYLOAD]
    assert image.info["dpi"] == pytest.approx((300, 300), abs=0.01)


def test_payload_too_long_for_small_label():
    content = replace(CONTENT, qr_payload=PAYLOAD + "?" + "x" * 400)
    with pytest.raises(ValueError, match="do not fit"):
        label_png(content, "40x30", 203)


# --------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------


def test_label_pdf_pages_size_and_qr(tmp_path):
    pdf = label_pdf(CONTENT, "60x40", copies=3)
    assert pdf_pages(pdf) == 3
    ((width, height),) = pdf_media_boxes(pdf)
    assert (width, height) == pytest.approx((60 * MM_TO_PT, 40 * MM_TO_PT), abs=0.01)
    assert decode(rasterise(pdf, tmp_path, 300)) == [PAYLOAD]


def test_share_pdf_with_frame_and_status_decodes(tmp_path):
    pdf = label_pdf(REVOKED, "share")
    assert decode(rasterise(pdf, tmp_path, 150)) == [PAYLOAD]


def stray_ink(a: Image.Image, b: Image.Image) -> float:
    """Share of the black pixels of ``a`` more than one pixel away from any of ``b``'s."""
    stray = ImageChops.subtract(b.filter(ImageFilter.MinFilter(3)), a)
    return stray.histogram()[255] / a.histogram()[0]


@pytest.mark.parametrize("size, content", [("60x40", CONTENT), ("100x70", REVOKED)])
def test_png_and_pdf_draw_the_same_label(tmp_path, size, content):
    png = Image.open(io.BytesIO(label_png(content, size, 300))).convert("L")
    pdf = rasterise(label_pdf(content, size), tmp_path, 300).crop((0, 0, *png.size))
    pdf = pdf.point([0 if v < 128 else 255 for v in range(256)])
    assert stray_ink(png, pdf) < 0.015  # edge pixels only; a drifting line is ~0.05
    assert stray_ink(pdf, png) < 0.015


def test_label_pdf_embeds_the_bundled_font_only():
    pdf = label_pdf(CONTENT, "40x30")
    assert b"/FontFile2" in pdf
    assert b"NotoSansSC-Subset-Regular" in pdf
    assert b"Helvetica" not in pdf


def test_sheet_pdf_fills_pages(tmp_path):
    sheet = SHEETS["a4-3x8"]
    assert pdf_pages(sheet_pdf(CONTENT)) == 1
    pdf = sheet_pdf(CONTENT, "a4-3x8", copies=sheet.per_page + 1)
    assert pdf_pages(pdf) == 2
    ((width, height),) = pdf_media_boxes(pdf)
    assert (width, height) == pytest.approx((210 * MM_TO_PT, 297 * MM_TO_PT), abs=0.01)
    assert decode(rasterise(pdf, tmp_path, 200)) == [PAYLOAD] * sheet.per_page


# --------------------------------------------------------------------------
# Font
# --------------------------------------------------------------------------


def glyph_bitmap(char: str, bold: bool = False) -> Image.Image:
    """One character rendered large with the bundled face."""
    font = ImageFont.truetype(str(font_path(bold)), 64)
    image = Image.new("L", (96, 96), 255)
    ImageDraw.Draw(image).text((16, 80), char, font=font, fill=0, anchor="ls")
    return image


@pytest.mark.parametrize("bold", [False, True])
def test_heading_glyphs_are_real(bold):
    notdef = glyph_bitmap("\U00020000", bold)  # outside the subset: drawn as .notdef
    bitmaps = [glyph_bitmap(char, bold) for char in HEADING]
    for bitmap in bitmaps:
        assert bitmap.getextrema()[0] == 0, "glyph has no ink"
        assert ImageChops.difference(bitmap, notdef).getbbox(), "glyph is the .notdef box"
    for a, b in combinations(bitmaps, 2):
        assert ImageChops.difference(a, b).getbbox(), "two characters render identically"


def test_heading_never_maps_to_notdef():
    for bold in (False, True):
        char_to_glyph = TTFontFile(str(font_path(bold))).charToGlyph
        assert all(char_to_glyph.get(ord(char), 0) != 0 for char in HEADING)
    assert METRICS.can_bold(HEADING)


def test_font_covers_fixed_text_extras_and_gb2312():
    gb2312 = set()
    for lead in range(0xB0, 0xF8):
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                gb2312.add(bytes((lead, trail)).decode("gb2312"))
    assert len(gb2312) == 6763
    extras = "斤°C℃×−≤≥✓✔☐☑□■·•…"
    assert missing_glyphs("".join(FIXED_TEXT) + extras + "".join(gb2312)) == set()


def test_synthesised_ballot_boxes_differ():
    empty, ticked = glyph_bitmap("☐"), glyph_bitmap("☑")
    assert ImageChops.difference(empty, ticked).getbbox()
    assert ImageChops.difference(glyph_bitmap("✔"), glyph_bitmap("✓")).getbbox() is None


def test_missing_glyphs():
    assert missing_glyphs("大白菜 500 kg，湖北省武汉市（420116）✓ 3.5℃\n") == set()
    assert missing_glyphs("产地：𠀀村") == {"𠀀"}


def test_font_files_are_modest():
    sizes = [font_path(False).stat().st_size, font_path(True).stat().st_size]
    assert sum(sizes) < 3_000_000
    assert (font_path().parent / "OFL.txt").is_file()


# --------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------


def overlaps(a, b) -> bool:
    """True if two (x0, y0, x1, y1) boxes share more than an edge."""
    tol = 1e-6
    return a[0] < b[2] - tol and b[0] < a[2] - tol and a[1] < b[3] - tol and b[1] < a[3] - tol


@pytest.mark.parametrize("name", sorted(SHEETS))
def test_sheet_positions_inside_page_without_overlap(name):
    sheet = SHEETS[name]
    boxes = [(x, y, x + sheet.label.width_mm, y + sheet.label.height_mm) for x, y in sheet_positions(sheet)]
    assert len(boxes) == sheet.per_page
    for x0, y0, x1, y1 in boxes:
        assert x0 >= 0 and y0 >= 0 and x1 <= sheet.page_w_mm + 1e-9 and y1 <= sheet.page_h_mm + 1e-9
    assert not any(overlaps(a, b) for a, b in combinations(boxes, 2))


def assert_clean_layout(layout: Layout, allow_overflow: bool = False) -> None:
    """Everything inside the label, text clear of the QR and of other text."""
    size = layout.size
    qr = next(op for op in layout.ops if isinstance(op, QrOp))
    texts = [op for op in layout.ops if isinstance(op, TextOp) and not op.white]
    assert allow_overflow or not layout.overflow
    for op in layout.ops:
        x0, y0, x1, y1 = op.box
        assert min(x0, y0) >= -1e-6 and x1 <= size.width_mm + 1e-6 and y1 <= size.height_mm + 1e-6, op
    assert not [op for op in texts if overlaps(op.box, qr.box)]
    assert not [(a, b) for a, b in combinations(texts, 2) if overlaps(a.box, b.box)]


@pytest.mark.parametrize("content", [CONTENT, REVOKED, ENGLISH], ids=["plain", "revoked", "en"])
@pytest.mark.parametrize("dpi", DPI_CHOICES)
@pytest.mark.parametrize("name", sorted(LABEL_SIZES))
def test_every_size_fits_without_overflow(name, dpi, content):
    assert_clean_layout(layout_label(content, name, dpi))


def test_sheet_labels_are_label_sizes():
    assert all(LABEL_SIZES[sheet.label.name] is sheet.label for sheet in SHEETS.values())


@pytest.mark.parametrize("name", ["60x40", "70x50", "100x70", "share"])
def test_roomy_sizes_shorten_nothing(name):
    assert layout_label(CONTENT, name).truncated == ()


def test_small_label_carries_everything_required():
    layout = layout_label(CONTENT, "40x30", 203)
    text = "".join(op.text for op in layout.ops if isinstance(op, TextOp))
    assert HEADING in text
    for label, _ in CONTENT.fields:
        assert f"{label}：" in text
    assert "承诺" in text and "依据" in text
    assert CONTENT.code_text in text.replace(" ", "")
    assert layout.body_pt >= FLOOR_PT


def test_long_values_are_ellipsized_not_overflowing():
    long_fields = [(label, value * 6) for label, value in CONTENT.fields]
    content = replace(CONTENT, fields=long_fields)
    layout = layout_label(content, "40x30", 203)
    assert_clean_layout(layout)
    assert layout.truncated
    assert any(op.text.endswith("…") for op in layout.ops if isinstance(op, TextOp))


def test_english_uses_the_callers_short_commitments_and_latin_colons():
    layout = layout_label(ENGLISH, "60x40")
    text = " ".join(op.text for op in layout.ops if isinstance(op, TextOp))
    assert "No banned drugs" in text and "Product: " in text
    assert layout.truncated == ()


def test_status_note_is_white_on_black():
    layout = layout_label(REVOKED, "60x40")
    (note,) = [op for op in layout.ops if isinstance(op, TextOp) and op.white]
    (bar,) = [op for op in layout.ops if isinstance(op, RectOp)]
    assert note.text == "已撤销 REVOKED"
    assert bar.box[0] <= note.box[0] and note.box[2] <= bar.box[2]


def test_hopeless_content_is_clipped_and_reported():
    fields = [(f"字段{i}", "值" * 10) for i in range(30)]
    layout = layout_label(replace(CONTENT, fields=fields), "40x30", 203)
    assert layout.overflow
    assert_clean_layout(layout, allow_overflow=True)


# --------------------------------------------------------------------------
# Line breaking (pure, with a fake fixed-pitch measure: 1 mm per character)
# --------------------------------------------------------------------------


def chars(text: str) -> float:
    return float(len(text))


def test_wrap_breaks_ideographs_anywhere_and_keeps_words():
    assert wrap("湖北省武汉市", 4, 4, chars) == ["湖北省武", "汉市"]
    assert wrap("500 kg net", 7, 7, chars) == ["500 kg", "net"]


def test_wrap_keeps_closing_punctuation_off_line_starts():
    assert wrap("一二三，四五", 3, 3, chars) == ["一二", "三，四", "五"]


def test_wrap_breaks_codes_after_hyphens():
    assert wrap("7KQM-9XR2-HT4W-3C", 10, 10, chars) == ["7KQM-9XR2-", "HT4W-3C"]


def test_wrap_keeps_units_and_splits_too_wide_ones_into_words():
    units = ("No banned drugs · ", "Residues within limits · ", "Truthful")
    assert wrap(units, 20, 20, chars) == [
        "No banned drugs ·",
        "Residues within",
        "limits · Truthful",
    ]


def test_wrap_respects_a_short_first_line():
    assert wrap("abcdef", 2, 6, chars) == ["", "abcdef"]


def test_clamp_lines_adds_ellipsis():
    lines, cut = clamp_lines(["一二三", "四五六"], 1, 3, chars)
    assert (lines, cut) == (["一二…"], True)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: label_png(CONTENT, "33x33"),
        lambda: label_pdf(CONTENT, "33x33"),
        lambda: sheet_pdf(CONTENT, "letter-9x9"),
        lambda: label_pdf(CONTENT, "60x40", copies=0),
        lambda: label_pdf(CONTENT, "60x40", copies=501),
        lambda: sheet_pdf(CONTENT, "a4-3x8", copies=0),
        lambda: sheet_pdf(CONTENT, "a4-3x8", copies=501),
        lambda: label_png(CONTENT, "60x40", dpi=150),
        lambda: qr_png(PAYLOAD, box_px=0),
    ],
    ids=[
        "size-png",
        "size-pdf",
        "sheet",
        "copies-0",
        "copies-501",
        "sheet-copies-0",
        "sheet-copies-501",
        "dpi-150",
        "box-px-0",
    ],
)
def test_bad_input_raises_value_error(call):
    with pytest.raises(ValueError):
        call()


# --------------------------------------------------------------------------
# Fitting the text column without trying every setting
# --------------------------------------------------------------------------

WORDS = [
    "大白菜",
    "湖北省武汉市黄陂区木兰乡双河村三组",
    "东区大棚 7 号",
    "武汉木兰蔬菜专业合作社",
    "13812345678",
]
WORDS += ["2026-11-20", "B-2026-11-19-07", "Chinese cabbage", "12.5 斤", "Internal quality control"]


def random_labels(count: int) -> list[tuple[LabelContent, compose.Box, float]]:
    """Contents of random lengths in text columns of random sizes."""
    rng = random.Random(20261203)
    out = []
    for _ in range(count):
        base = rng.choice([CONTENT, ENGLISH])
        fields = [
            (label, " ".join(rng.choice(WORDS) for _ in range(rng.choice([1, 1, 2, 3, 6]))))
            for label, _value in base.fields[: rng.randint(2, len(base.fields))]
        ]
        content = replace(base, fields=fields, basis=base.basis[: rng.randint(0, 2)])
        width, height = rng.uniform(15, 70), rng.uniform(12, 60)
        out.append((content, compose.Box(1.5, 4.0, 1.5 + width, 4.0 + height), rng.choice([6.0, 8.0, 11.0])))
    return out


def every_setting_fit(content, box, max_pt, allow_cuts):
    """The fit found by setting the text at every density and size, as the engine once did."""
    settings = ((d, pt) for d in DENSITIES for pt in point_sizes(max_pt, d.min_pt))
    blocks = (compose.set_text(content, box, pt, d, METRICS) for d, pt in settings)
    fitting = (block for block in blocks if block.bottom <= box.y1 + 1e-9)
    if allow_cuts:
        return min(fitting, key=lambda block: len(block.truncated), default=None)
    return next((block for block in fitting if not block.truncated), None)


def test_the_floor_under_the_text_column_never_passes_its_real_bottom():
    for content, box, max_pt in random_labels(40):
        for density in DENSITIES:
            for pt in point_sizes(max_pt, density.min_pt):
                floor = compose.least_bottom(content, box, pt, density, METRICS)
                assert floor <= compose.set_text(content, box, pt, density, METRICS).bottom + 1e-9


def test_fitting_skips_settings_but_picks_what_trying_every_setting_picks():
    chosen = set()
    for content, box, max_pt in random_labels(120):
        settings: dict = {}
        fast = compose.fit_text(content, box, max_pt, METRICS, False, settings)
        if fast is None:  # as fit_body does: then the pass that may shorten paragraphs
            fast = compose.fit_text(content, box, max_pt, METRICS, True, settings)
            slow = every_setting_fit(content, box, max_pt, True)
        else:
            slow = every_setting_fit(content, box, max_pt, False)
        assert (fast is None) == (slow is None)
        if fast is not None:
            assert (fast.pt, fast.density, fast.lines, fast.truncated) == (
                slow.pt,
                slow.density,
                slow.lines,
                slow.truncated,
            )
            chosen.add((fast.density, bool(fast.truncated)))
    assert len(chosen) >= 4  # the cases reach several densities, with and without cuts
