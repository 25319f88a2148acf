"""One QR for everything: a batch with a GTIN prints a GS1 Digital Link, read back with a real decoder."""

from __future__ import annotations

import io

import zxingcpp
from PIL import Image

from traceapp import codes
from traceapp.labels import render

BASE = "https://trace.example.cn"  # the suite's PUBLIC_BASE_URL
GTIN = "09506000134352"


def decoded(png: bytes) -> tuple[str, int]:
    """(text, QR version) of the one QR code in a PNG, as zxing-cpp reads it."""
    results = [r for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png))) if r.format.name == "QRCode"]
    assert len(results) == 1
    return results[0].text, int(results[0].extra["Version"])


def label_qr(client, member, certificate, file: str = "label.png?size=40x30&dpi=300") -> tuple[str, int]:
    response = client.get(f"/api/v1/certificates/{certificate.id}/{file}", headers=member.headers)
    assert response.status_code == 200
    return decoded(response.get_data())


def test_label_of_a_batch_with_a_gtin_carries_the_digital_link_no_larger_than_the_code_url(client, make):
    member = make.member()
    certificate = make.certificate(member, gtin=GTIN, batch_no="B2026-11")
    today_text, today_version = decoded(render.qr_png(codes.qr_url(BASE, certificate.trace_code)))
    assert today_text == f"HTTPS://TRACE.EXAMPLE.CN/T/{certificate.trace_code}"
    for file in ("label.png?size=40x30&dpi=300", "qr.png"):
        text, version = label_qr(client, member, certificate, file)
        # Host in capitals (alphanumeric mode); the lot keeps its case; the harvest date would
        # cost a version here, so it is left out (the label prints it).
        assert text == f"HTTPS://TRACE.EXAMPLE.CN/01/{GTIN}/10/B2026-11"
        assert version <= today_version
        # The rule, not a coincidence: with ?7007= the symbol would be a version larger.
        _dated, dated_version = decoded(render.qr_png(f"{text}?7007=261120"))
        assert dated_version > version
    # The case label's QR follows the same rule: the same Digital Link, no date.
    case = client.get(f"/api/v1/certificates/{certificate.id}/case.png?dpi=300", headers=member.headers)
    assert decoded(case.get_data())[0] == f"HTTPS://TRACE.EXAMPLE.CN/01/{GTIN}/10/B2026-11"
    # Both codes scan to the same page.
    resolved = client.get(f"/01/{GTIN}/10/B2026-11")
    assert (
        resolved.status_code == 307 and resolved.headers["Location"] == f"{BASE}/t/{certificate.trace_code}"
    )
    assert client.get(f"/T/{certificate.trace_code}").status_code == 200


def test_the_date_is_an_attribute_when_it_costs_no_larger_symbol(client, make, app):
    app.config["PUBLIC_BASE_URL"] = "https://trace.example-abc.cn"
    member = make.member()
    certificate = make.certificate(member, gtin="9506000134352")  # a GTIN-13, no producer's lot
    text, _version = label_qr(client, member, certificate)
    # A host of 20 characters: the Digital Link is version 4 with or without the harvest date (AI 7007).
    assert text == f"HTTPS://TRACE.EXAMPLE-ABC.CN/01/{GTIN}/10/{certificate.trace_code}?7007=261120"
    assert (
        client.get(f"/01/{GTIN}/10/{certificate.trace_code}?7007=261120")
        .headers["Location"]
        .endswith(f"/t/{certificate.trace_code}")
    )


def test_a_lot_that_is_no_gs1_lot_or_names_another_batch_gives_way_to_the_trace_code(client, make):
    member = make.member()
    chinese = make.certificate(member, gtin=GTIN, batch_no="第三批")  # not GS1's character set
    assert (
        label_qr(client, member, chinese)[0] == f"HTTPS://TRACE.EXAMPLE.CN/01/{GTIN}/10/{chinese.trace_code}"
    )
    first = make.certificate(member, gtin=GTIN, batch_no="L7")
    second = make.certificate(member, gtin=GTIN, batch_no="L7")  # the lot still names the first
    assert label_qr(client, member, first)[0].endswith("/10/L7")
    assert label_qr(client, member, second)[0].endswith(f"/10/{second.trace_code}")
    assert client.get(f"/01/{GTIN}/10/L7").headers["Location"].endswith(first.trace_code)


def test_label_of_a_batch_without_a_gtin_keeps_the_code_url(client, make):
    member = make.member()
    certificate = make.certificate(member)
    assert label_qr(client, member, certificate)[0] == f"HTTPS://TRACE.EXAMPLE.CN/T/{certificate.trace_code}"
