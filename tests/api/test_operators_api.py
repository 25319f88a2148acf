"""The operator as the law names it, through the API: an admin sets the credit code or the
natural person, the platform code and the address, each checked; the identity number is read
in full only by its own organisation and regulators; a seal image goes on the certificates
issued while it is current, and stays on them when it changes."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
import zxingcpp
from PIL import Image

from tests.factories import certificate_body, seal_image
from tests.unit.test_operator_identity import make_id, make_uscc, uscc_check
from traceapp.certificates import printing
from traceapp.certificates.models import Certificate
from traceapp.labels import render
from traceapp.orgs.models import AuditEntry, Organisation, OrgKind, OrgSeal, Role
from traceapp.urls import public_base_url

EN = {"Accept-Language": "en"}
CREDIT = make_uscc("93", "420116", "MA49XW1F")
ID_NUMBER = make_id("420116", "19700312", "041")
MASKED = ID_NUMBER[:4] + "*" * 10 + ID_NUMBER[-4:]


def h(member) -> dict[str, str]:
    return {**member.headers, **EN}


def farm_household(client, make):
    """A producer that is a farm household: a person's name and identity number."""
    farmer = make.member()
    body = {"person_name": "王大明", "id_number": ID_NUMBER, "address": "黄陂区木兰乡王家湾 8 号"}
    response = client.patch("/api/v1/organisation", json=body, headers=h(farmer))
    assert response.status_code == 200, response.json
    return farmer


def test_an_admin_sets_the_operator_fields_and_they_are_normalised_and_audited(client, make, dbsession):
    admin = make.member()
    typed = {"credit_code": CREDIT.lower(), "platform_code": "hb-4201 1600 88", "address": " 武汉市 黄陂区 "}
    answer = client.patch("/api/v1/organisation", json=typed, headers=h(admin))
    assert answer.status_code == 200, answer.json
    assert answer.json["credit_code"] == CREDIT
    assert answer.json["platform_code"] == "HB4201160088"
    assert answer.json["address"] == "武汉市 黄陂区"
    assert answer.json["operator_type"] == "legal_person"
    assert client.get("/api/v1/organisation", headers=h(admin)).json["credit_code"] == CREDIT
    entry = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.action == "org.operator_changed")).one()
    assert entry.org_id == admin.org.id and entry.details["credit_code"] == {"from": None, "to": CREDIT}
    # Clearing one field leaves the others.
    cleared = client.patch("/api/v1/organisation", json={"platform_code": None}, headers=h(admin)).json
    assert cleared["platform_code"] is None and cleared["credit_code"] == CREDIT


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("credit_code", CREDIT[:17] + ("0" if CREDIT[17] != "0" else "1"), "Character 18"),
        ("credit_code", CREDIT[:16] + ("X" if CREDIT[16] != "X" else "1") + "0", "Character 17"),
        ("credit_code", "91350100MO00100Y43", "Character 10"),
        ("id_number", ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1"), "Character 18"),
        ("id_number", make_id("420116", "19701312", "041"), "birth date"),
        ("platform_code", "主体码", "6 to 32"),
        ("address", "路" * 301, "300"),
    ],
)
def test_bad_operator_fields_are_refused_naming_the_field_and_nothing_is_written(
    client, make, dbsession, field, value, says
):
    admin = make.member()
    body = {field: value, **({"person_name": "王大明"} if field == "id_number" else {})}
    response = client.patch("/api/v1/organisation", json=body, headers=h(admin))
    assert response.status_code == 422 and response.mimetype == "application/problem+json"
    assert [e["field"] for e in response.json["errors"]] == [f"/{field}"]
    assert says in response.json["errors"][0]["message"]
    dbsession.expire_all()
    org = dbsession.get(Organisation, admin.org.id)
    assert (org.credit_code, org.id_number, org.person_name, org.platform_code) == (None, None, None, None)


def test_the_check_character_message_is_in_chinese_for_a_chinese_reader(client, make):
    admin = make.member()
    wrong = CREDIT[:17] + ("0" if CREDIT[17] != "0" else "1")
    response = client.patch(
        "/api/v1/organisation",
        json={"credit_code": wrong},
        headers={**admin.headers, "Accept-Language": "zh-CN"},
    )
    message = response.json["errors"][0]["message"]
    assert "第 18 位" in message and CREDIT[17] in message


def test_an_identity_number_needs_the_persons_name(client, make):
    admin = make.member()
    response = client.patch("/api/v1/organisation", json={"id_number": ID_NUMBER}, headers=h(admin))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "/person_name"


def test_unknown_fields_are_refused(client, make):
    response = client.patch("/api/v1/organisation", json={"gln": "1234"}, headers=h(make.member()))
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "/gln"


def test_a_member_who_is_not_an_admin_cannot_set_them(client, make, dbsession):
    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER)
    response = client.patch("/api/v1/organisation", json={"credit_code": CREDIT}, headers=h(member))
    assert response.status_code == 403 and response.mimetype == "application/problem+json"
    dbsession.expire_all()
    assert dbsession.get(Organisation, admin.org.id).credit_code is None


def test_another_organisations_admin_changes_only_its_own(client, make, dbsession):
    farmer = farm_household(client, make)
    other = make.member()
    client.patch("/api/v1/organisation", json={"person_name": "李四"}, headers=h(other))
    dbsession.expire_all()
    assert dbsession.get(Organisation, farmer.org.id).person_name == "王大明"


def test_the_identity_number_is_read_in_full_by_its_organisation_and_regulators_only(client, make):
    farmer = farm_household(client, make)
    colleague = make.member(org=farmer.org, role=Role.MEMBER)
    url = f"/api/v1/organisations/{farmer.org.id}"
    for reader in (farmer, colleague, make.member(OrgKind.REGULATOR)):
        answer = client.get(url, headers=h(reader)).json
        assert answer["id_number"] == ID_NUMBER and answer["id_number_masked"] is False
    for kind in (OrgKind.PRODUCER, OrgKind.MARKET, OrgKind.CARRIER, OrgKind.PROCESSOR, OrgKind.RETAILER):
        answer = client.get(url, headers=h(make.member(kind)))
        assert answer.status_code == 200
        assert answer.json["id_number"] == MASKED and answer.json["id_number_masked"] is True
        assert ID_NUMBER not in answer.get_data(as_text=True)
        assert answer.json["person_name"] == "王大明" and answer.json["operator_type"] == "natural_person"


def test_the_audit_log_keeps_the_identity_number_masked(client, make, dbsession):
    farmer = farm_household(client, make)
    entries = dbsession.scalars(sa.select(AuditEntry).where(AuditEntry.org_id == farmer.org.id)).all()
    assert all(ID_NUMBER not in repr(e.details) for e in entries)
    assert any(e.details and e.details.get("id_number", {}).get("to") == MASKED for e in entries)


def test_the_public_page_and_the_code_answer_never_carry_the_identity_number(client, make):
    farmer = farm_household(client, make)
    issued = client.post("/api/v1/certificates", json=certificate_body(), headers=h(farmer)).json
    page = client.get(f"/t/{issued['trace_code']}?lang=zh").get_data(as_text=True)
    assert ID_NUMBER not in page and MASKED not in page
    assert ID_NUMBER[:6] + ID_NUMBER[6:14] not in page
    market = make.member(OrgKind.MARKET)
    code = client.get(f"/api/v1/codes/{issued['trace_code']}", headers=h(market)).get_data(as_text=True)
    assert ID_NUMBER not in code


def test_an_unknown_organisation_is_a_404(client, make):
    response = client.get(
        "/api/v1/organisations/00000000-0000-4000-8000-000000000000", headers=h(make.member())
    )
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_the_published_example_and_its_structure_agree_with_our_own_reading():
    # A guard on the helpers above: the published example, built from its parts.
    assert uscc_check("91350100M000100Y4") == "3"


# Seals ------------------------------------------------------------------------------------


def upload(client, member, data: bytes, name: str = "seal.png"):
    return client.post(
        "/api/v1/organisation/seal", data={"seal": (io.BytesIO(data), name)}, headers=h(member)
    )


def test_a_png_seal_is_re_encoded_with_its_transparency(client, make):
    admin = make.member()
    # A PNG with text chunks and bytes after its end: none of it survives the re-encoding.
    original = seal_image(300)
    answer = upload(client, admin, original + b"<?php evil(); ?>")
    assert answer.status_code == 201, answer.json
    assert (answer.json["width"], answer.json["height"]) == (300, 300)
    stored = client.get("/api/v1/organisation/seal.png", headers=h(admin))
    assert stored.mimetype == "image/png" and b"evil" not in stored.data
    image = Image.open(io.BytesIO(stored.data))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # the ground stays transparent
    assert image.getpixel((150, 150))[:3] == (200, 20, 30)  # the seal's red


def test_a_jpeg_seal_is_accepted_and_stored_as_png(client, make):
    answer = upload(client, make.member(), seal_image(200, "JPEG"), "seal.jpg")
    assert answer.status_code == 201


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"not an image at all", 422),
        (b"GIF89a" + b"\x00" * 100, 422),
        (seal_image(16), 422),  # too small to read on a label
    ],
)
def test_bad_seal_uploads_are_refused_and_nothing_is_stored(client, make, dbsession, data, status):
    admin = make.member()
    response = upload(client, admin, data)
    assert response.status_code == status and response.json["errors"][0]["field"] == "/seal"
    assert (
        dbsession.scalar(
            sa.select(sa.func.count()).select_from(OrgSeal).where(OrgSeal.org_id == admin.org.id)
        )
        == 0
    )


def test_a_gif_is_refused_even_when_pillow_reads_it(client, make):
    image = Image.new("RGB", (64, 64), (255, 0, 0))
    out = io.BytesIO()
    image.save(out, format="GIF")
    response = upload(client, make.member(), out.getvalue(), "seal.gif")
    assert response.status_code == 422 and "PNG or JPEG" in response.json["errors"][0]["message"]


def test_an_oversize_seal_is_refused_with_413(client, make, app):
    app.config["SEAL_MAX_BYTES"] = 4096
    response = upload(client, make.member(), seal_image(400) + b"\x00" * 4096)
    assert response.status_code == 413 and response.mimetype == "application/problem+json"
    assert response.json["errors"][0]["field"] == "/seal" and "4 KB" in response.json["errors"][0]["message"]


def test_a_member_who_is_not_an_admin_cannot_upload_a_seal(client, make):
    admin = make.member()
    member = make.member(org=admin.org, role=Role.MEMBER)
    assert upload(client, member, seal_image()).status_code == 403


def seal_box(certificate_content, size: str):
    """Where the layout put the seal on a label of ``size`` (None: it has none)."""
    layout = render.layout_label(certificate_content, size, 300)
    boxes = [op.box for op in layout.ops if isinstance(op, render.ImageOp)]
    return boxes[0] if boxes else None


def ring_is_drawn(image: Image.Image, box, dpi: int) -> bool:
    """The seal's ring dark at its left and right edges and at its dot, light inside the ring."""
    scale = dpi / 25.4
    x0, y0, x1, y1 = (v * scale for v in box)
    mid_y, mid_x = (y0 + y1) / 2, (x0 + x1) / 2
    grey = image.convert("L")

    def dark(x: float, y: float) -> bool:
        return grey.getpixel((round(x), round(y))) < 128

    ring = (x1 - x0) * 0.05
    inside = (x1 - x0) * 0.25
    return (
        dark(x0 + ring, mid_y)
        and dark(x1 - ring, mid_y)
        and dark(mid_x, mid_y)
        and not dark(x0 + inside, mid_y)
        and not dark(x0 + ring, y0 + ring)  # a transparent corner
    )


def label_content_of(client, dbsession, issued):
    """The label content the API drew for a certificate (the same QR payload, so the same
    layout)."""
    certificate = dbsession.scalar(
        sa.select(Certificate).where(Certificate.trace_code == issued["trace_code"])
    )
    with client.application.test_request_context():
        return printing.label_content(certificate, base_url=public_base_url())


def test_a_certificate_keeps_the_seal_it_was_issued_with(client, make, dbsession):
    admin = make.member()
    assert upload(client, admin, seal_image(240)).status_code == 201
    first = client.post("/api/v1/certificates", json=certificate_body(), headers=h(admin)).json
    assert upload(client, admin, seal_image(240, colour=(20, 20, 200))).status_code == 201
    second = client.post("/api/v1/certificates", json=certificate_body(), headers=h(admin)).json
    assert client.delete("/api/v1/organisation/seal", headers=h(admin)).status_code == 204
    third = client.post("/api/v1/certificates", json=certificate_body(), headers=h(admin)).json
    seal_ids = [
        dbsession.scalar(sa.select(Certificate.seal_id).where(Certificate.trace_code == c["trace_code"]))
        for c in (first, second, third)
    ]
    assert seal_ids[0] and seal_ids[1] and seal_ids[0] != seal_ids[1] and seal_ids[2] is None
    colours = [
        Image.open(io.BytesIO(dbsession.get(OrgSeal, s).content)).getpixel((120, 120))[:3]
        for s in seal_ids[:2]
    ]
    assert colours == [(200, 20, 30), (20, 20, 200)]


@pytest.mark.parametrize("size", ["70x50", "100x70", "105x57"])
def test_the_seal_is_on_the_label_png_and_the_qr_still_decodes(client, make, dbsession, size):
    admin = make.member()
    upload(client, admin, seal_image(240))
    issued = client.post("/api/v1/certificates", json=certificate_body(), headers=h(admin)).json
    png = client.get(f"/api/v1/certificates/{issued['id']}/label.png?size={size}&dpi=300", headers=h(admin))
    assert png.status_code == 200
    image = Image.open(io.BytesIO(png.data))
    content = label_content_of(client, dbsession, issued)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [content.qr_payload]
    box = seal_box(content, size)
    assert box is not None and ring_is_drawn(image, box, 300)
    # The text is whole: the seal took only room the text did not need.
    assert not render.layout_label(content, size, 300).truncated


def test_small_labels_carry_no_seal_and_the_share_image_does(client, make, dbsession):
    admin = make.member()
    upload(client, admin, seal_image(240))
    issued = client.post("/api/v1/certificates", json=certificate_body(), headers=h(admin)).json
    content = label_content_of(client, dbsession, issued)
    assert seal_box(content, "40x30") is None and seal_box(content, "60x40") is None
    share = client.get(f"/api/v1/certificates/{issued['id']}/share.png", headers=h(admin))
    box = render.layout_label(content, "share", 300)
    seal = [op.box for op in box.ops if isinstance(op, render.ImageOp)]
    assert seal and ring_is_drawn(Image.open(io.BytesIO(share.data)), seal[0], 300)
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(share.data)))] == [
        content.qr_payload
    ]


def test_the_seal_is_in_the_label_pdf(client, make, tmp_path):
    from tests.unit.test_labels import rasterise

    admin = make.member()
    before = client.post("/api/v1/certificates", json=certificate_body(), headers=h(admin)).json
    upload(client, admin, seal_image(240))
    issued = client.post("/api/v1/certificates", json=certificate_body(), headers=h(admin)).json
    pdf = client.get(f"/api/v1/certificates/{issued['id']}/label.pdf?size=100x70", headers=h(admin)).data
    assert b"/Subtype /Image" in pdf and b"/SMask" in pdf  # the seal, with its transparency
    image = rasterise(pdf, tmp_path, 300)
    assert zxingcpp.read_barcodes(image)
    # Issued before the seal was uploaded: its label has none, and never will.
    old = client.get(f"/api/v1/certificates/{before['id']}/label.pdf?size=100x70", headers=h(admin))
    assert old.status_code == 200 and b"/Subtype /Image" not in old.data


def test_a_seal_that_would_decompress_to_hundreds_of_megapixels_is_refused_not_a_500(client, make):
    from PIL import Image

    admin = make.member()
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, format="PNG")  # some 50 KB on the wire
    answer = upload(client, admin, bomb.getvalue())
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert answer.json["errors"][0]["field"] == "/seal"
