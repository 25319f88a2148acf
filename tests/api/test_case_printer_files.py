"""Case and pallet labels for every printer: ``case.zpl``, ``case.tspl``, ``case.escpos`` and the
pallet's ``label.zpl``, ``label.tspl``, ``label.escpos``, read back as a printer would (the
readers of tests/unit/test_printer_formats.py, written from the vendors' manuals) and decoded with
zxing-cpp: the GS1-128 carries (01) GTIN (10) lot, or the pallet's (00) SSCC, the QR our URL."""

from __future__ import annotations

import io

import pytest
import zxingcpp
from PIL import Image

from tests.api.test_pallets_api import body, with_prefix
from tests.unit.test_printer_formats import read_escpos, read_tspl, read_zpl, same_pixels
from traceapp.labels.case import CASE_SIZE, CaseContent, case_image
from traceapp.labels.printers import case_escpos, case_tspl, case_zpl

GTIN = "10614141000415"
CONTENT = CaseContent(
    title="砂糖橘 10 千克",
    elements=(("01", GTIN), ("10", "LOT-7")),
    lines=(("批次", "LOT-7"), ("生产者", "木兰合作社")),
    qr_payload="HTTPS://TRACE.EXAMPLE.CN/01/10614141000415/10/LOT-7",
    voice_pick="1234",
)


def symbols(image: Image.Image) -> dict[str, str]:
    """'qr' and 'bars' → the text zxing-cpp reads (GS1 data in brackets)."""
    found = {}
    for result in zxingcpp.read_barcodes(image):
        kind = "qr" if "QR" in str(result.format) else "bars"
        found[kind] = result.text
        if kind == "bars":
            assert "GS1" in str(result.content_type), "FNC1 first: a GS1-128 symbol"
    return found


@pytest.mark.parametrize("dpi", [203, 300])
def test_case_zpl_and_tspl_carry_the_png_bitmap_at_the_printers_resolution(dpi):
    reference = case_image(CONTENT, dpi)
    assert reference.size == (round(100 / 25.4 * dpi), round(50 / 25.4 * dpi))
    job = read_zpl(case_zpl(CONTENT, dpi, copies=3))
    assert (job.one("PW"), job.one("LL"), job.one("PQ")) == (str(reference.width), str(reference.height), "3")
    assert same_pixels(job.image, reference)
    assert symbols(job.image) == {"bars": f"(01){GTIN}(10)LOT-7", "qr": CONTENT.qr_payload}

    tspl = read_tspl(case_tspl(CONTENT, dpi, copies=2))
    names = [name for name, _ in tspl.commands]
    assert names[0] == "SIZE" and names[-1] == "PRINT"
    assert names.index("SIZE") < names.index("CLS") < names.index("BITMAP") < names.index("PRINT")
    assert tspl.one("SIZE") == f"{CASE_SIZE.width_mm:g} mm,{CASE_SIZE.height_mm:g} mm"
    assert tspl.one("PRINT") == "1,2"
    x, y, width, height, mode = tspl.one("BITMAP").split(",")
    assert (x, y, mode) == ("0", "0", "0") and int(width) == (reference.width + 7) // 8
    assert tspl.image is not None and same_pixels(tspl.image, reference)
    assert symbols(tspl.image) == {"bars": f"(01){GTIN}(10)LOT-7", "qr": CONTENT.qr_payload}


@pytest.mark.parametrize(("paper", "dots"), [("58", 384), ("80", 576)])
def test_case_receipt_turns_the_label_across_the_roll(paper, dots):
    """50 mm of label across 48 mm (58 mm paper) or 72 mm (80 mm paper) of printed width: the
    label turned a quarter, trimmed of white margin only, still decodes."""
    receipt = read_escpos(case_escpos(CONTENT, paper, copies=2))
    assert receipt.initialised and len(receipt.copies) == 2 and receipt.feeds == 2
    assert receipt.cuts == (2 if paper == "80" else 0)  # the 58 mm stall printers have no cutter
    for copy in receipt.copies:
        assert copy.width == dots and copy.height == round(100 / 25.4 * 203)
        assert symbols(copy) == {"bars": f"(01){GTIN}(10)LOT-7", "qr": CONTENT.qr_payload}


def test_case_printer_files_refuse_bad_arguments():
    with pytest.raises(ValueError):
        case_zpl(CONTENT, dpi=600)
    with pytest.raises(ValueError):
        case_tspl(CONTENT, copies=0)
    with pytest.raises(KeyError):
        case_escpos(CONTENT, paper="a4")


def test_api_case_printer_files_decode_to_gtin_lot_and_the_batchs_qr(client, make):
    producer = make.member()
    certificate = make.certificate(producer, gtin=GTIN, batch_no="LOT-7")
    base = f"/api/v1/certificates/{certificate.id}"
    png = client.get(f"{base}/case.png?dpi=203", headers=producer.headers)
    expected = symbols(Image.open(io.BytesIO(png.data)))
    assert expected["bars"] == f"(01){GTIN}(10)LOT-7"
    assert expected["qr"].upper().endswith(f"/01/{GTIN}/10/LOT-7")

    answer = client.get(f"{base}/case.zpl?dpi=203&copies=4&pack_date=2026-12-04", headers=producer.headers)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/plain; charset=us-ascii"
    assert f"{certificate.trace_code}-case-203dpi.zpl" in answer.headers["Content-Disposition"]
    job = read_zpl(answer.data)
    assert job.one("PQ") == "4"
    assert symbols(job.image)["bars"] == f"(01){GTIN}(13)261204(10)LOT-7"

    answer = client.get(f"{base}/case.tspl?dpi=300&lang=en", headers=producer.headers)
    assert answer.status_code == 200 and answer.headers["Content-Type"] == "application/octet-stream"
    assert symbols(read_tspl(answer.data).image) == expected

    answer = client.get(f"{base}/case.escpos?paper=80", headers=producer.headers)
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=")
    (copy,) = read_escpos(answer.data).copies
    assert copy.width == 576 and symbols(copy) == expected


def test_api_case_printer_files_refuse_bad_parameters_and_batches_without_gtin(client, make):
    producer = make.member()
    certificate = make.certificate(producer, gtin=GTIN)
    base = f"/api/v1/certificates/{certificate.id}"
    for query, name in [
        ("case.zpl?dpi=600", "dpi"),
        ("case.tspl?copies=501", "copies"),
        ("case.escpos?paper=a4", "paper"),
        ("case.escpos?dpi=203", "dpi"),  # a receipt printer has one resolution
        ("case.zpl?pack_date=2026-13-01", "pack_date"),
    ]:
        answer = client.get(f"{base}/{query}", headers=producer.headers)
        assert answer.status_code == 422 and answer.mimetype == "application/problem+json", query
        assert name in answer.get_data(as_text=True)
    plain = make.certificate(producer)
    for ext in ("zpl", "tspl", "escpos"):
        answer = client.get(f"/api/v1/certificates/{plain.id}/case.{ext}", headers=producer.headers)
        assert answer.status_code == 409 and answer.json["type"].endswith("no-gtin")


def test_pallet_printer_files_decode_to_the_sscc_and_the_pallet_url(app, client, make):
    packer = with_prefix(app, make)
    batch = make.certificate(packer)
    sscc = client.post("/api/v1/events", json=body((batch, "5")), headers=packer.headers).json["details"][
        "sscc"
    ]
    base = f"/api/v1/pallets/{sscc}"

    def check(image: Image.Image) -> None:
        read = symbols(image)
        assert read["bars"] == f"(00){sscc}"
        assert read["qr"].upper().endswith(f"/P/{sscc}")

    for dpi in (203, 300):
        answer = client.get(f"{base}/label.zpl?dpi={dpi}&copies=2", headers=packer.headers)
        assert answer.status_code == 200 and answer.headers["Content-Type"] == "text/plain; charset=us-ascii"
        assert f"{sscc}-label-{dpi}dpi.zpl" in answer.headers["Content-Disposition"]
        job = read_zpl(answer.data)
        assert job.one("PW") == str(round(100 / 25.4 * dpi)) and job.one("PQ") == "2"
        check(job.image)
        answer = client.get(f"{base}/label.tspl?dpi={dpi}", headers=packer.headers)
        assert answer.headers["Content-Type"] == "application/octet-stream"
        tspl = read_tspl(answer.data)
        assert tspl.one("SIZE") == "100 mm,50 mm"
        check(tspl.image)
    for paper, dots in (("58", 384), ("80", 576)):
        answer = client.get(f"{base}/label.escpos?paper={paper}&lang=en", headers=packer.headers)
        assert answer.status_code == 200
        (copy,) = read_escpos(answer.data).copies
        assert copy.width == dots
        check(copy)
    # Another organisation, bad parameters: refused as for the PNG.
    other = make.member()
    assert client.get(f"{base}/label.zpl", headers=other.headers).status_code == 404
    bad = client.get(f"{base}/label.escpos?dpi=203", headers=packer.headers)
    assert bad.status_code == 422 and "dpi" in bad.get_data(as_text=True)
    assert client.get(f"{base}/label.tspl?copies=0", headers=packer.headers).status_code == 422


def test_escpos_copies_stop_at_the_cap_and_zpl_tspl_send_the_bitmap_once(app, client, make):
    """ESC/POS has no copy count: 500 receipts were 29 MB in one answer. Its copies stop at
    MAX_RECEIPT_COPIES with a 422 naming ``copies`` (certificate label, case label, pallet
    label alike); ZPL and TSPL carry the count in ^PQ / PRINT 1,n, so 500 copies cost nothing."""
    from traceapp.labels.layouts import MAX_RECEIPT_COPIES

    packer = with_prefix(app, make)
    certificate = make.certificate(packer, gtin=GTIN, batch_no="LOT-7")
    sscc = client.post("/api/v1/events", json=body((certificate, "5")), headers=packer.headers).json[
        "details"
    ]["sscc"]
    receipts = [
        f"/api/v1/certificates/{certificate.id}/label.escpos?paper=80",
        f"/api/v1/certificates/{certificate.id}/case.escpos?paper=80",
        f"/api/v1/pallets/{sscc}/label.escpos?paper=80",
    ]
    for url in receipts:
        for headers, words in (
            ({"Accept-Language": "en"}, "Between 1 and 20."),
            ({"Accept-Language": "zh-CN"}, "1 到 20"),
        ):
            refused = client.get(
                f"{url}&copies={MAX_RECEIPT_COPIES + 1}", headers={**packer.headers, **headers}
            )
            assert refused.status_code == 422 and refused.mimetype == "application/problem+json", url
            assert [e["field"].lstrip("/") for e in refused.json["errors"]] == ["copies"], url
            assert words in refused.json["errors"][0]["message"], url
        assert client.get(f"{url}&copies=500", headers=packer.headers).status_code == 422
        one = client.get(url, headers=packer.headers)
        most = client.get(f"{url}&copies={MAX_RECEIPT_COPIES}", headers=packer.headers)
        assert most.status_code == 200 and len(read_escpos(most.data).copies) == MAX_RECEIPT_COPIES
        assert len(most.data) < MAX_RECEIPT_COPIES * len(one.data) + 100 < 2_000_000, url
    for url in (
        f"/api/v1/certificates/{certificate.id}/label",
        f"/api/v1/certificates/{certificate.id}/case",
        f"/api/v1/pallets/{sscc}/label",
    ):
        for ext in ("zpl", "tspl"):
            one = client.get(f"{url}.{ext}?dpi=203&copies=1", headers=packer.headers)
            many = client.get(f"{url}.{ext}?dpi=203&copies=500", headers=packer.headers)
            assert many.status_code == 200 and len(many.data) == len(one.data) + 2, (url, ext)
    with pytest.raises(ValueError):
        case_escpos(CONTENT, copies=MAX_RECEIPT_COPIES + 1)
