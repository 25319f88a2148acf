"""What a lab report upload may be: a PDF or an image, checked by content, not by name."""

from __future__ import annotations

import io

from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError

from traceapp import limits
from traceapp.errors import FieldError, InvalidInput, PayloadTooLarge

IMAGE_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
FIELD = "file"


def check_report_file(content: bytes, *, max_bytes: int) -> str:
    """Return the real content type of an upload.

    Raises PayloadTooLarge over ``max_bytes`` and InvalidInput (field ``file``) for an empty file,
    a type other than PDF/PNG/JPEG/WebP, or a damaged file.
    """
    if len(content) > max_bytes:
        message = _("The report is larger than %(mb)s MB.", mb=_mb(max_bytes))
        raise PayloadTooLarge(message, errors=[FieldError(FIELD, message)])
    if not content:
        raise InvalidInput(FIELD, _("The file is empty."))
    if content.startswith(b"%PDF-"):
        return _check_pdf(content)
    return _check_image(content)


def _mb(max_bytes: int) -> str:
    return f"{max_bytes / 1024 / 1024:g}"


def _check_pdf(content: bytes) -> str:
    if b"%%EOF" not in content[-1024:]:
        raise InvalidInput(FIELD, _("The PDF file is incomplete or damaged."))
    return "application/pdf"


def _check_image(content: bytes) -> str:
    """The image's type, from its content. An image that declares more than
    ``limits.REPORT_PIXELS`` is refused before anything decodes it: Pillow warns from 89
    Mpx and refuses from 179 Mpx (both are refusals here, and a warning is an error under
    pytest), our own limit is lower than either."""
    try:
        with Image.open(io.BytesIO(content)) as image:
            kind, (width, height) = image.format, image.size
            if width * height > limits.REPORT_PIXELS:
                raise _too_many_pixels()
            image.verify()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_many_pixels() from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        kind = None
    if kind not in IMAGE_TYPES:
        raise InvalidInput(FIELD, _("Upload a PDF, PNG, JPEG or WebP file."))
    return IMAGE_TYPES[kind]


def _too_many_pixels() -> InvalidInput:
    return InvalidInput(
        FIELD,
        _(
            "The image has more than %(mpx)d million pixels: scan it at a lower resolution.",
            mpx=limits.REPORT_PIXELS // 1_000_000,
        ),
    )
