"""The printer formats (label.zpl, label.tspl, label.escpos) read back as a printer would.

Each test parses the command stream with a small reader written here from the vendors'
published manuals, not from our encoder: the structure a printer requires is checked
(mandatory commands, their order, counts that agree with each other), the bitmap is rebuilt
into an image and a real decoder (zxing-cpp) reads the QR code from it.

- Zebra, *ZPL II Programming Guide*: ``^XA`` … ``^XZ`` brackets a format; ``^PW`` print
  width and ``^LL`` label length in dots; ``^FO`` field origin; ``^GFa,b,c,d,data`` graphic
  field (a = A: ASCII hex, b = binary byte count, which for A equals c; c = graphic field
  count = bytes per row × rows; d = bytes per row), a 1 bit prints; ``^FS`` ends the field;
  ``^PQ`` quantity. The ASCII data may use the *alternative data compression scheme*:
  G–Y repeat the next hex digit 1–19 times, g–z 20–400 times (steps of 20, counts add up),
  ``,`` fills the rest of the row with 0, ``!`` with 1, ``:`` repeats the previous row.
- TSC, *TSPL/TSPL2 Programming Language*: ``SIZE m mm,n mm``; ``GAP m mm,n mm``; ``CLS``
  clears the image buffer; ``BITMAP X,Y,width,height,mode,data`` with width in bytes,
  height in dots, mode 0 = overwrite, then width × height raw bytes, a 0 bit prints;
  ``PRINT m[,n]`` prints m sets of n copies. Commands end with CR LF.
- Epson, *ESC/POS Command Reference*: ``ESC @`` initialise; ``GS v 0 m xL xH yL yH d…`` raster
  bit image, (xL + xH·256) bytes a row, (yL + yH·256) rows, k = their product, m 0–3 or 48–51,
  a 1 bit prints, MSB leftmost; ``ESC d n`` print and feed n lines; ``GS V m`` (m = 0, 1,
  48, 49) or ``GS V m n`` (m = 65, 66) cut.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field, replace

import pytest
import zxingcpp
from PIL import Image, ImageChops

from traceapp.labels.layouts import DPI_CHOICES, LABEL_SIZES, RECEIPT_PAPERS, LabelContent
from traceapp.labels.printers import escpos, tspl, zpl
from traceapp.labels.render import label_png

PAYLOAD = "HTTPS://TRACE.EXAMPLE.CN/T/7KQM9XR2HT4W3C"
CONTENT = LabelContent(
    heading="承诺达标合格证",
    fields=[
        ("产品", "大白菜"),
        ("数量", "500 千克"),
        ("产地", "湖北省武汉市黄陂区木兰乡 (420116)"),
        ("生产者", "木兰合作社"),
        ("开具日期", "2026-11-20"),
    ],
    commitments=["不使用禁用农药兽药、停用兽药和非法添加物", "常规农药兽药残留不超标", "对承诺的真实性负责"],
    commitments_short="承诺：不用禁用药 · 残留不超标 · 对真实性负责",
    basis=["委托检测", "内部质量控制"],
    qr_payload=PAYLOAD,
    code_text="7KQM-9XR2-HT4W-3C",
)
SIZES = sorted(LABEL_SIZES)


def decode(image: Image.Image) -> list[str]:
    """Texts of every barcode zxing-cpp finds."""
    return [result.text for result in zxingcpp.read_barcodes(image)]


def from_bits(rows: bytes, width_bytes: int, height: int, *, ink: int) -> Image.Image:
    """A 1-bit image (0 = black, as Pillow and the PNG have it) from packed MSB-first rows
    in which a bit equal to ``ink`` is a printed dot."""
    assert len(rows) == width_bytes * height
    data = rows if ink == 0 else bytes(255 - b for b in rows)
    return Image.frombytes("1", (width_bytes * 8, height), data)


def png_image(size: str, dpi: int) -> Image.Image:
    return Image.open(io.BytesIO(label_png(CONTENT, size, dpi)))


def same_pixels(image: Image.Image, reference: Image.Image) -> bool:
    """True if ``image``, cropped to the reference's size, has its pixels and any padding is white."""
    assert image.width >= reference.width and image.height == reference.height
    cropped = image.crop((0, 0, reference.width, reference.height))
    padding = image.crop((reference.width, 0, image.width, image.height))
    white_padding = padding.width == 0 or padding.getextrema() == (255, 255)
    return (
        ImageChops.difference(cropped.convert("L"), reference.convert("L")).getbbox() is None
        and white_padding
    )


# --------------------------------------------------------------------------
# ZPL
# --------------------------------------------------------------------------


@dataclass
class ZplFormat:
    commands: list[tuple[str, str]]  #: (command, parameters) in order
    fields: list[tuple[int, int, Image.Image]] = field(default_factory=list)  #: graphic fields at (x, y)

    def one(self, name: str) -> str:
        values = [params for command, params in self.commands if command == name]
        assert len(values) == 1, f"{name}: {values}"
        return values[0]

    @property
    def image(self) -> Image.Image:
        """The label as printed: its graphic fields on a white ^PW x ^LL canvas."""
        canvas = Image.new("1", (int(self.one("PW")), int(self.one("LL"))), 1)
        for x, y, piece in self.fields:
            assert x + piece.width <= canvas.width + 7 and y + piece.height <= canvas.height
            canvas.paste(piece, (x, y))
        return canvas


def zpl_expand(data: str, width_bytes: int, rows: int) -> bytes:
    """ASCII hex graphic data, with or without the alternative compression scheme, as bytes."""
    row_len = 2 * width_bytes
    out: list[str] = []
    row, previous, count = "", "", 0
    for char in re.sub(r"\s", "", data):
        if "G" <= char <= "Y":
            count += ord(char) - ord("F")
        elif "g" <= char <= "z":
            count += (ord(char) - ord("f")) * 20
        elif char in "0123456789ABCDEF":
            row += char * (count or 1)
            count = 0
        elif char in ",!":
            row = row.ljust(row_len, "0" if char == "," else "F")
        elif char == ":":
            assert row == "" and previous, "':' repeats a whole previous row"
            row = previous
        else:
            raise AssertionError(f"not graphic field data: {char!r}")
        assert count == 0 or char in "GHIJKLMNOPQRSTUVWXYghijklmnopqrstuvwxyz"
        assert len(row) <= row_len, "a row overflows its bytes per row"
        if len(row) == row_len:
            out.append(row)
            previous, row = row, ""
    assert row == "" and count == 0, "the data ends inside a row"
    assert len(out) == rows, f"{len(out)} rows, the field says {rows}"
    return bytes.fromhex("".join(out))


def read_zpl(stream: bytes) -> ZplFormat:
    """One ZPL format: its commands, and its (single) graphic field as an image."""
    text = stream.decode("ascii")  # a ZPL file of ours is 7-bit text
    assert text.lstrip().startswith("^XA") and text.rstrip().endswith("^XZ")
    assert text.count("^XA") == 1 and text.count("^XZ") == 1
    parsed = ZplFormat([])
    origin = None
    for chunk in text.strip().split("^")[1:]:
        name, params = chunk[:2], chunk[2:].strip()
        parsed.commands.append((name, params))
        if name == "FO":
            origin = tuple(int(v) for v in params.split(","))
        elif name == "GF":
            assert origin is not None, "a graphic field sits at a ^FO"
            kind, binary_count, field_count, per_row, data = params.split(",", 4)
            assert kind == "A"
            per_row, field_count = int(per_row), int(field_count)
            assert int(binary_count) == field_count, "for ASCII data b equals c"
            assert 1 <= field_count <= 99999, "the guide's range of the field count"
            assert field_count % per_row == 0
            rows = field_count // per_row
            parsed.fields.append((*origin, from_bits(zpl_expand(data, per_row, rows), per_row, rows, ink=1)))
            origin = None
        elif name == "FS":
            origin = None
    names = [name for name, _ in parsed.commands]
    assert names[0] == "XA" and names[-1] == "XZ"
    for at, name in enumerate(names):
        if name == "GF":
            assert names[at - 1] == "FO" and names[at + 1] == "FS", "a graphic field sits in ^FO … ^FS"
    assert parsed.fields, "no graphic field"
    return parsed


@pytest.mark.parametrize("dpi", DPI_CHOICES)
@pytest.mark.parametrize("size", SIZES)
def test_zpl_carries_the_label_bitmap_at_the_printers_resolution(size, dpi):
    copies = 3
    job = read_zpl(zpl(CONTENT, size, dpi, copies))
    reference = png_image(size, dpi)
    assert job.one("PW") == str(reference.width)
    assert job.one("LL") == str(reference.height)
    assert job.fields[0][:2] == (0, 0)
    assert job.one("PQ") == str(copies)
    assert same_pixels(job.image, reference)
    assert decode(job.image) == [PAYLOAD]


def test_zpl_splits_a_large_label_into_fields_the_printer_accepts():
    # 100x70 mm at 300 dpi is 148 bytes x 827 rows = 122,396 bytes: over ^GF's 99,999.
    job = read_zpl(zpl(CONTENT, "100x70", 300))
    assert len(job.fields) == 2 and [x for x, _, _ in job.fields] == [0, 0]
    assert job.fields[1][1] == job.fields[0][2].height


def test_zpl_graphic_data_is_compressed():
    stream = zpl(CONTENT, "60x40", 300)
    raw_hex = 2 * ((png_image("60x40", 300).width + 7) // 8) * png_image("60x40", 300).height
    assert len(stream) < raw_hex / 2


def test_zpl_reader_reads_uncompressed_hex_too():
    # The reader follows the manual, not our encoder: the manual's plain form reads as well.
    assert zpl_expand("FF00\n00FF", 2, 2) == b"\xff\x00\x00\xff"
    assert zpl_expand("IF,:", 2, 2) == b"\xff\xf0" * 2  # I = 3 times, "," pads with 0, ":" repeats
    assert zpl_expand("gF!", 20, 1) == b"\xff" * 20  # g = 20 times, "!" pads with F
    assert zpl_expand("hHA", 21, 1) == b"\xaa" * 21  # h = 40 and H = 2: 42 times


# --------------------------------------------------------------------------
# TSPL
# --------------------------------------------------------------------------


@dataclass
class TsplJob:
    commands: list[tuple[str, str]] = field(default_factory=list)
    image: Image.Image | None = None

    def one(self, name: str) -> str:
        values = [params for command, params in self.commands if command == name]
        assert len(values) == 1, f"{name}: {values}"
        return values[0]


def read_tspl(stream: bytes) -> TsplJob:
    """A TSPL job: CR LF terminated commands; BITMAP's raw data read by its own byte count."""
    job, at = TsplJob(), 0
    while at < len(stream):
        if stream.startswith(b"BITMAP ", at):
            header_end = at
            for _ in range(5):  # X, Y, width, height, mode: five commas, then the data
                header_end = stream.index(b",", header_end) + 1
            x, y, width, height, mode = stream[at + 7 : header_end - 1].decode("ascii").split(",")
            width_bytes, rows = int(width), int(height)
            data = stream[header_end : header_end + width_bytes * rows]
            job.commands.append(("BITMAP", f"{x},{y},{width},{height},{mode}"))
            job.image = from_bits(data, width_bytes, rows, ink=0)
            at = header_end + width_bytes * rows
            assert stream.startswith(b"\r\n", at), "the bitmap data is followed by CR LF"
            at += 2
            continue
        end = stream.index(b"\r\n", at)
        line = stream[at:end].decode("ascii")
        name, _, params = line.partition(" ")
        assert re.fullmatch(r"[A-Z]+", name), f"not a TSPL command: {line!r}"
        job.commands.append((name, params))
        at = end + 2
    return job


@pytest.mark.parametrize("dpi", DPI_CHOICES)
@pytest.mark.parametrize("size", SIZES)
def test_tspl_carries_the_label_bitmap_and_the_media_size(size, dpi):
    copies = 2
    job = read_tspl(tspl(CONTENT, size, dpi, copies))
    label, reference = LABEL_SIZES[size], png_image(size, dpi)
    names = [name for name, _ in job.commands]
    assert names[0] == "SIZE" and names[-1] == "PRINT"
    assert names.index("SIZE") < names.index("CLS") < names.index("BITMAP") < names.index("PRINT")
    assert {"GAP", "DENSITY", "DIRECTION"} <= set(names)
    assert job.one("SIZE") == f"{label.width_mm:g} mm,{label.height_mm:g} mm"
    assert re.fullmatch(r"\d+(\.\d+)? mm,0 mm", job.one("GAP"))
    assert 0 <= int(job.one("DENSITY")) <= 15
    assert job.one("PRINT") == f"1,{copies}"
    x, y, width, height, mode = job.one("BITMAP").split(",")
    assert (x, y, mode) == ("0", "0", "0")
    assert int(width) == (reference.width + 7) // 8 and int(height) == reference.height
    assert job.image is not None and same_pixels(job.image, reference)
    assert decode(job.image) == [PAYLOAD]


# --------------------------------------------------------------------------
# ESC/POS
# --------------------------------------------------------------------------


@dataclass
class Receipt:
    initialised: bool = False
    copies: list[Image.Image] = field(default_factory=list)
    cuts: int = 0
    feeds: int = 0


def read_escpos(stream: bytes) -> Receipt:
    """ESC/POS commands of a receipt: initialise, raster images, feeds, cuts. Slices printed
    one after the other without a cut are one copy."""
    receipt, slices, at = Receipt(), [], 0

    def finish() -> None:
        if slices:
            width = slices[0].width
            assert all(s.width == width for s in slices)
            copy = Image.new("1", (width, sum(s.height for s in slices)), 1)
            top = 0
            for piece in slices:
                copy.paste(piece, (0, top))
                top += piece.height
            receipt.copies.append(copy)
            slices.clear()

    while at < len(stream):
        if stream.startswith(b"\x1b@", at):
            assert at == 0, "ESC @ comes first"
            receipt.initialised, at = True, at + 2
        elif stream.startswith(b"\x1dv0", at):
            m, xl, xh, yl, yh = stream[at + 3 : at + 8]
            assert m in (0, 1, 2, 3, 48, 49, 50, 51) and m in (0, 48), "normal density"
            width_bytes, rows = xl + xh * 256, yl + yh * 256
            assert width_bytes >= 1 and 1 <= rows <= 2303, "within every printer's GS v 0 limits"
            data = stream[at + 8 : at + 8 + width_bytes * rows]
            slices.append(from_bits(data, width_bytes, rows, ink=1))
            at += 8 + width_bytes * rows
        elif stream.startswith(b"\x1bd", at):
            receipt.feeds, at = receipt.feeds + 1, at + 3
            if not stream.startswith(b"\x1dV", at):
                finish()  # fed without a cut (a printer without a cutter): the copy ends too
        elif stream.startswith(b"\x1dV", at):
            m = stream[at + 2]
            assert m in (0, 1, 48, 49, 65, 66)
            receipt.cuts, at = receipt.cuts + 1, at + (4 if m in (65, 66) else 3)
            finish()
        else:
            raise AssertionError(f"unknown ESC/POS byte {stream[at]:#04x} at {at}")
    finish()
    return receipt


@pytest.mark.parametrize(("paper", "dots"), [("58", 384), ("80", 576)])
def test_escpos_receipt_is_a_raster_image_of_the_paper_width(paper, dots):
    copies = 2
    receipt = read_escpos(escpos(CONTENT, paper, copies))
    assert receipt.initialised
    assert len(receipt.copies) == copies and receipt.feeds == copies
    for copy in receipt.copies:
        assert copy.width == dots, "the image fills the printer's head, no more"
        assert decode(copy) == [PAYLOAD]
    roll = RECEIPT_PAPERS[paper].label
    assert receipt.copies[0].height == round(roll.height_mm * 203 / 25.4)


def test_escpos_80mm_printers_cut_after_each_copy():
    assert read_escpos(escpos(CONTENT, "80", 3)).cuts == 3


def test_english_labels_read_back_too():
    english = replace(
        CONTENT, heading="承诺达标合格证 Compliance Certificate", fields=[("Product", "Chinese cabbage")]
    )
    assert decode(read_zpl(zpl(english, "40x30", 203)).image) == [PAYLOAD]
    assert decode(read_tspl(tspl(english, "40x30", 203)).image) == [PAYLOAD]
    assert decode(read_escpos(escpos(english, "58")).copies[0]) == [PAYLOAD]


@pytest.mark.parametrize("make_job", [lambda: zpl(CONTENT, copies=0), lambda: tspl(CONTENT, dpi=150)])
def test_bad_arguments_are_refused(make_job):
    with pytest.raises(ValueError):
        make_job()


# --------------------------------------------------------------------------
# Through the API: a real certificate's label, its headers
# --------------------------------------------------------------------------


def test_api_printer_files_carry_the_certificates_trace_code_url(client, make):
    member = make.member()
    certificate = make.certificate(member)
    base = f"/api/v1/certificates/{certificate.id}"
    png = client.get(f"{base}/label.png?size=40x30&dpi=203", headers=member.headers)
    (url,) = decode(Image.open(io.BytesIO(png.data)))
    assert certificate.trace_code in url.upper()

    answer = client.get(f"{base}/label.zpl?size=40x30&dpi=203&copies=4&lang=en", headers=member.headers)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/plain; charset=us-ascii"
    job = read_zpl(answer.data)
    assert job.one("PQ") == "4" and decode(job.image) == [url]

    answer = client.get(f"{base}/label.tspl?size=40x30&dpi=203", headers=member.headers)
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert decode(read_tspl(answer.data).image) == [url]

    answer = client.get(f"{base}/label.escpos", headers=member.headers)
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    (copy,) = read_escpos(answer.data).copies
    assert copy.width == 384 and decode(copy) == [url]  # a 58 mm roll unless asked


def test_api_refuses_bad_printer_parameters_by_name(client, make):
    member = make.member()
    certificate = make.certificate(member)
    base = f"/api/v1/certificates/{certificate.id}"
    for query, name in [
        ("label.zpl?dpi=600", "dpi"),
        ("label.tspl?copies=501", "copies"),
        ("label.escpos?paper=a4", "paper"),
    ]:
        answer = client.get(f"{base}/{query}", headers=member.headers)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
        assert name in answer.get_data(as_text=True)
