"""Codes in photos and screenshots, decoded with zxing-cpp (QR codes and any other symbology).

The imaging libraries are imported on first use, so that the gate loop starts fast.
"""

from __future__ import annotations

from pathlib import Path

from scanner_client.i18n import _


class ImageError(Exception):
    """A file that cannot be opened as an image."""


def decode_file(path: Path) -> list[str]:
    """The text of every barcode found in the image at ``path`` (upright by its EXIF tag).

    Raises ImageError when the file is missing or is not an image.
    """
    import zxingcpp
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with Image.open(path) as opened:
            image = ImageOps.exif_transpose(opened).convert("L")
    except (OSError, UnidentifiedImageError) as error:
        raise ImageError(
            _("cannot read {path} as an image: {error}").format(path=path, error=error)
        ) from error
    return [result.text for result in zxingcpp.read_barcodes(image) if result.text]
