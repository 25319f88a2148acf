"""Case labels (PTI): the GS1-128 barcode and the QR read back from the rendered label with a
real decoder (zxing-cpp), the voice pick code printed on it, bad input as problem+json."""

from __future__ import annotations

import io
from datetime import date

import pytest
import zxingcpp
from PIL import Image

from traceapp import gs1
from traceapp.labels import gs1_128
from traceapp.labels.case import CaseContent, case_pdf, case_png

GTIN = "10614141000415"


def decode(png: bytes) -> dict[str, str]:
    """Each symbol's format → its text, as zxing-cpp reads the label (GS1 data in brackets)."""
    found = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    return {str(r.format): (r.text, r.content_type) for r in found}


def symbols(png: bytes) -> tuple[str, str, object]:
    read = decode(png)
    qr, _ = read["QR Code"] if "QR Code" in read else read["BarcodeFormat.QRCode"]
    bars, kind = read["Code 128"] if "Code 128" in read else read["BarcodeFormat.Code128"]
    return qr, bars, kind


def test_element_string_puts_fnc1_first_and_after_variable_length_values_only():
    assert gs1_128.element_string([("01", GTIN), ("10", "A1")]) == f"\xf101{GTIN}10A1"
    assert gs1_128.element_string([("10", "A1"), ("21", "7")]) == "\xf110A1\xf1217"
    assert gs1_128.order([("10", "A1"), ("13", "261204"), ("01", GTIN)]) == [
        ("13", "261204"),
        ("01", GTIN),
        ("10", "A1"),
    ]
    with pytest.raises(ValueError):
        gs1_128.element_string([])


def test_two_variable_length_values_decode_apart():
    """FNC1 between them: a decoder reads (10) and (21) as two elements, not one."""
    content = CaseContent(
        "Lot and serial", (("01", GTIN), ("10", "AB12"), ("21", "999")), (), "HTTPS://X.EXAMPLE/T/A"
    )
    _qr, bars, kind = symbols(case_png(content, dpi=300))
    assert bars == f"(01){GTIN}(10)AB12(21)999"
    assert "GS1" in str(kind)


@pytest.mark.parametrize("dpi", [203, 300])
def test_case_label_png_decodes_to_gtin_lot_pack_date_and_our_url(client, make, dpi):
    producer = make.member()
    certificate = make.certificate(producer, gtin=GTIN, batch_no="LOT-7")
    response = client.get(
        f"/api/v1/certificates/{certificate.id}/case.png?dpi={dpi}&pack_date=2026-12-04",
        headers=producer.headers,
    )
    assert response.status_code == 200 and response.mimetype == "image/png"
    image = Image.open(io.BytesIO(response.data))
    assert image.size == (round(100 / 25.4 * dpi), round(50 / 25.4 * dpi))
    qr, bars, kind = symbols(response.data)
    assert bars == f"(01){GTIN}(13)261204(10)LOT-7"
    assert "GS1" in str(kind)  # FNC1 in first position: a GS1-128 symbol, not plain Code 128
    # The one QR of the batch: its Digital Link (GTIN + the lot the barcode carries), as on its labels.
    assert qr.upper().endswith(f"/01/{GTIN}/10/LOT-7")
    qr_alone = client.get(f"/api/v1/certificates/{certificate.id}/qr.png", headers=producer.headers)
    alone = decode(qr_alone.data)
    assert (alone["QR Code"] if "QR Code" in alone else alone["BarcodeFormat.QRCode"])[0] == qr
    assert f"{certificate.trace_code}-case-{dpi}dpi.png" in response.headers["Content-Disposition"]


def test_case_label_prints_the_voice_pick_code_of_what_its_barcode_says(client, make, app):
    """The voice pick code printed is the one of the GTIN, lot and pack date read back from the
    rendered barcode by the decoder: two small digits, then two large ones white on black."""
    producer = make.member()
    certificate = make.certificate(producer, gtin=GTIN, batch_no="LOT-7")
    from traceapp.certificates import printing
    from traceapp.labels.case import compose_case

    with app.test_request_context():
        content = printing.case_label_content(
            certificate, base_url="https://t.example", pack_date=date(2026, 12, 4)
        )
    _qr, bars, _kind = symbols(case_png(content, dpi=203))
    read = dict(gs1.parse_element_string(bars))
    packed = date(2000 + int(read["13"][:2]), int(read["13"][2:4]), int(read["13"][4:]))
    code = gs1.voice_pick_code(read["01"], read["10"], packed)
    assert content.voice_pick == code == gs1.voice_pick_code(GTIN, "LOT-7", date(2026, 12, 4))
    texts = [op for op in compose_case(content, 25.4 / 300).ops if hasattr(op, "text")]
    small = next(op for op in texts if op.text == code[:2])
    large = next(op for op in texts if op.text == code[2:])
    assert large.size_pt > small.size_pt and large.white and not small.white


def test_case_label_pdf_is_one_page_per_copy_at_4x2_inches(client, make):
    producer = make.member()
    certificate = make.certificate(producer, gtin="614141000418", batch_no="L1")
    response = client.get(
        f"/api/v1/certificates/{certificate.id}/case.pdf?copies=3", headers=producer.headers
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.count(b"/MediaBox") == 3
    assert b"283.4646 141.7323" in response.data  # 100 x 50 mm in points


def test_a_lot_gs1_cannot_carry_falls_back_to_the_trace_code(client, make):
    producer = make.member()
    certificate = make.certificate(producer, gtin=GTIN, batch_no="第3批")
    response = client.get(f"/api/v1/certificates/{certificate.id}/case.png", headers=producer.headers)
    _qr, bars, _kind = symbols(response.data)
    assert bars == f"(01){GTIN}(10){certificate.trace_code}"


def test_case_label_of_a_batch_without_gtin_is_a_conflict_and_a_bad_date_is_named(client, make):
    producer = make.member()
    certificate = make.certificate(producer)
    response = client.get(f"/api/v1/certificates/{certificate.id}/case.png", headers=producer.headers)
    assert response.status_code == 409 and response.mimetype == "application/problem+json"
    assert response.json["type"].endswith("no-gtin") and "GTIN" in response.json["detail"]
    bad = client.get(
        f"/api/v1/certificates/{certificate.id}/case.png?pack_date=2026-13-01", headers=producer.headers
    )
    assert bad.status_code == 422 and "pack_date" in bad.get_data(as_text=True)


def test_another_organisation_cannot_print_the_case_label(client, make):
    owner, other = make.member(), make.member()
    certificate = make.certificate(owner, gtin=GTIN)
    for tail in ("case.png", "case.pdf"):
        response = client.get(f"/api/v1/certificates/{certificate.id}/{tail}", headers=other.headers)
        assert response.status_code == 404


def test_pdf_of_the_direct_renderer():
    content = CaseContent("X", (("01", GTIN), ("10", "A")), (("Lot", "A"),), "HTTPS://X.EXAMPLE/T/A", "1234")
    assert case_pdf(content).startswith(b"%PDF")
