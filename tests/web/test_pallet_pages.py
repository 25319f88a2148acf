"""Pallets in the pages: the company prefix in the settings, the aggregating form, the pallet's
page with its label for the packer."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import zxingcpp
from PIL import Image

from tests.web.test_certificate_pages import sign_in
from traceapp.events import pallets

EN = {"Accept-Language": "en"}


def test_the_settings_set_the_company_prefix_and_refuse_a_bad_one(client, make, dbsession):
    admin = make.member()
    sign_in(client, admin)
    bad = client.post(
        "/org/settings", data={"timezone": "Asia/Shanghai", "gs1_company_prefix": "12ab"}, headers=EN
    )
    assert bad.status_code == 422 and "6 to 12 digits" in bad.get_data(as_text=True)
    dbsession.refresh(admin.org)
    assert admin.org.gs1_company_prefix is None
    saved = client.post(
        "/org/settings", data={"timezone": "Asia/Shanghai", "gs1_company_prefix": "6901234"}, headers=EN
    )
    assert saved.status_code == 302
    dbsession.refresh(admin.org)
    assert admin.org.gs1_company_prefix == "6901234"
    assert 'value="6901234"' in client.get("/org/settings").get_data(as_text=True)


def test_packing_a_pallet_from_the_form_leads_to_its_page_and_label(client, make, dbsession):
    packer = make.member()
    batch = make.certificate(packer, quantity=Decimal("100"), product_name="砂糖橘")
    sign_in(client, packer)
    client.post("/org/settings", data={"timezone": "Asia/Shanghai", "gs1_company_prefix": "6901234"})
    form = client.get("/events/new?kind=aggregating").get_data(as_text=True)
    assert 'name="cases.0.trace_code"' in form
    response = client.post(
        "/events/new",
        data={
            "kind": "aggregating",
            "event_id": str(uuid.uuid4()),
            "cases.0.trace_code": batch.trace_code,
            "cases.0.quantity": "40",
            "cases.0.unit": "kg",
            "occurred_at": "2026-12-01T08:00",
        },
    )
    sscc = pallets.make_sscc("6901234", 1)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/p/{sscc}")
    page = client.get(f"/p/{sscc}", headers=EN).get_data(as_text=True)
    assert "砂糖橘" in page and f"/pallets/{sscc}/label.pdf" in page
    png = client.get(f"/pallets/{sscc}/label.png?dpi=203")
    assert png.status_code == 200 and png.mimetype == "image/png"
    texts = {r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))}
    assert f"(00){sscc}" in texts
    assert client.get(f"/pallets/{sscc}/label.pdf").data.startswith(b"%PDF")
    # Another organisation's member sees the page but not the label links, nor the label.
    sign_in(client, make.member())
    assert f"/pallets/{sscc}/label.pdf" not in client.get(f"/p/{sscc}").get_data(as_text=True)
    assert client.get(f"/pallets/{sscc}/label.pdf").status_code == 404


def test_a_bad_case_is_shown_beside_its_field(client, make):
    packer = make.member()
    sign_in(client, packer)
    response = client.post(
        "/events/new",
        data={
            "kind": "aggregating",
            "event_id": str(uuid.uuid4()),
            "cases.0.trace_code": "NOSUCHCODE0000",
            "cases.0.quantity": "4",
            "cases.0.unit": "kg",
            "occurred_at": "2026-12-01T08:00",
        },
        headers=EN,
    )
    assert response.status_code == 422
    assert 'id="cases.0.trace_code-error"' in response.get_data(as_text=True)


def test_the_certificate_page_prints_case_labels_for_a_batch_with_a_gtin(client, make):
    producer = make.member()
    with_gtin, without = make.certificate(producer, gtin="10614141000415"), make.certificate(producer)
    sign_in(client, producer)
    page = client.get(f"/certificates/{with_gtin.id}").get_data(as_text=True)
    assert f"/certificates/{with_gtin.id}/case.pdf" in page
    assert "/case.pdf" not in client.get(f"/certificates/{without.id}").get_data(as_text=True)
    pdf = client.get(f"/certificates/{with_gtin.id}/case.pdf?pack_date=&copies=2")
    assert pdf.status_code == 200 and pdf.data.count(b"/MediaBox") == 2
    png = client.get(f"/certificates/{with_gtin.id}/case.png?dpi=203&pack_date=2026-12-04")
    texts = {r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))}
    assert f"(01)10614141000415(13)261204(10){with_gtin.trace_code}" in texts


def test_the_batch_page_tells_it_was_packed_onto_a_pallet(client, make):
    packer = make.member()
    batch = make.certificate(packer, quantity=Decimal("100"))
    sign_in(client, packer)
    client.post("/org/settings", data={"timezone": "Asia/Shanghai", "gs1_company_prefix": "6901234"})
    client.post(
        "/events/new",
        data={
            "kind": "aggregating",
            "event_id": str(uuid.uuid4()),
            "cases.0.trace_code": batch.trace_code,
            "cases.0.quantity": "40",
            "cases.0.unit": "kg",
            "occurred_at": "2026-12-01T08:00",
        },
    )
    page = client.get(f"/t/{batch.trace_code}?lang=en")
    assert page.status_code == 200 and "Packed onto a pallet" in page.get_data(as_text=True)
    zh = client.get(f"/t/{batch.trace_code}?lang=zh").get_data(as_text=True)
    assert "组托" in zh
