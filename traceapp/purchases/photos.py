"""Photographs of paper certificates: checked to be a JPEG or PNG and re-encoded with Pillow, so
what is stored is pixels only (no EXIF or GPS, no comments, nothing a viewer might execute)."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

#: Larger than any phone photo; a decompression bomb is refused before it is decoded.
MAX_PIXELS = 40_000_000
#: Stored photos are shrunk to this longest side: enough to read a certificate's small print.
MAX_SIDE = 2400
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


class NotAPhoto(ValueError):
    """The bytes are not a JPEG or PNG image we can read."""


@dataclass(frozen=True)
class Photo:
    content: bytes
    content_type: str
    width: int
    height: int


def reencode(content: bytes) -> Photo:
    """Decode a JPEG or PNG and encode it afresh (JPEG stays JPEG, PNG stays PNG), upright as
    its EXIF orientation said, shrunk to ``MAX_SIDE``, with no metadata. Raises NotAPhoto."""
    try:
        with warnings.catch_warnings():
            # Pillow only warns below twice its pixel limit: make every bomb an error.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            kind, upright = _decode(content)
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as error:
        raise NotAPhoto(str(error)) from None
    upright.thumbnail((MAX_SIDE, MAX_SIDE))
    if kind == "JPEG":
        clean, options = upright.convert("RGB"), {"quality": 85, "optimize": True}
    else:
        mode = "RGBA" if upright.mode in ("RGBA", "LA", "P") else "RGB"
        clean, options = upright.convert(mode), {"optimize": True}
    pixels = Image.new(clean.mode, clean.size)
    pixels.paste(clean)  # a new image carries none of the original's info dict
    out = io.BytesIO()
    pixels.save(out, format=kind, **options)
    return Photo(out.getvalue(), FORMATS[kind], pixels.width, pixels.height)


def _decode(content: bytes) -> tuple[str, Image.Image]:
    with Image.open(io.BytesIO(content)) as image:
        if image.format not in FORMATS or image.width * image.height > MAX_PIXELS:
            raise NotAPhoto(image.format or "unknown")
        image.load()
        return image.format, ImageOps.exif_transpose(image)
