"""``trace-scan image``: QR codes in label files, in phone photos and in GS1 Digital Links."""

from __future__ import annotations

from pathlib import Path

import pytest
import qrcode
from PIL import Image, ImageDraw, ImageFilter

from tests.scanner.conftest import api, inspections

pytestmark = pytest.mark.e2e


def photographed(png: Path, out: Path, *, angle: float = 8, scale: float = 0.7) -> Path:
    """``png`` as a phone photo of it might look: smaller, tilted, on a grey, uneven background."""
    with Image.open(png) as opened:
        label = opened.convert("RGB")
    label = label.resize((int(label.width * scale), int(label.height * scale)), Image.Resampling.BILINEAR)
    label = label.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=(128, 128, 128))
    photo = Image.new("RGB", (1280, 960), (128, 128, 128))
    draw = ImageDraw.Draw(photo)
    for x in range(1280):  # light falling off across the table
        draw.line([(x, 0), (x, 960)], fill=(100 + x // 16, 100 + x // 16, 96 + x // 16))
    photo.paste(label, (310, 170))
    photo.filter(ImageFilter.GaussianBlur(0.8)).save(out, "JPEG", quality=80)
    return out


def test_codes_in_a_label_file_a_photo_and_a_digital_link_are_decoded_and_handled(
    trace_scan, issue, server, parties, tmp_path
):
    first, second, third = issue(), issue(), issue()
    status, png = api(server, "GET", f"/api/v1/certificates/{first['id']}/qr.png", parties.producer.token)
    assert status == 200 and png[:4] == b"\x89PNG"
    (tmp_path / "label.png").write_bytes(png)
    status, png = api(server, "GET", f"/api/v1/certificates/{second['id']}/qr.png", parties.producer.token)
    (tmp_path / "second.png").write_bytes(png)
    photo = photographed(tmp_path / "second.png", tmp_path / "photo.jpg")
    link = f"https://brand.example.com/01/09520123456788/10/{third['trace_code']}"
    qrcode.make(link).save(tmp_path / "dl.png")
    photo_dl = photographed(tmp_path / "dl.png", tmp_path / "dl.jpg", angle=-5, scale=1.2)

    run = trace_scan("image", str(tmp_path / "label.png"), str(photo), str(photo_dl), "--quantity", "10kg")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.count("ACCEPT  ") == 3 and run.stdout.count("✔ recorded") == 3
    for certificate in (first, second, third):
        [event] = inspections(server, parties, certificate["trace_code"])
        assert event["items"][0]["quantity"] == "10"


def test_an_image_without_a_code_is_named_and_the_rest_still_handled(trace_scan, issue, server, tmp_path):
    Image.new("RGB", (400, 300), (200, 200, 200)).save(tmp_path / "blank.png")
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
    qrcode.make(issue()["trace_code"]).save(tmp_path / "typed.png")
    run = trace_scan(
        "image", str(tmp_path / "blank.png"), str(tmp_path / "notes.txt"), str(tmp_path / "typed.png")
    )
    assert run.returncode == 1
    assert "blank.png: no code found" in run.stdout and "cannot read" in run.stdout
    assert "ACCEPT" in run.stdout
