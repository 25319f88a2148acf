"""An organisation's seal or signature image (盖章或签名): uploaded by an admin, re-encoded,
kept in versions, and put on the certificates issued while it is current.

The upload is decoded and drawn again with Pillow (``clean_seal``, pure): whatever else the file
carried (metadata, a second frame, a payload after the image) is gone, and what is stored is a
PNG of at most ``MAX_SIDE_PX`` pixels a side, with its transparency (a PNG's alpha, or a palette's
transparent colour) kept. A JPEG has no transparency; its white paper stays white.

Services flush; they never commit.
"""

from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session, undefer

from traceapp.db import utcnow
from traceapp.errors import FieldError, InvalidInput, NotFound, PayloadTooLarge
from traceapp.orgs import audit
from traceapp.orgs.models import OrgSeal
from traceapp.orgs.permissions import Action, require
from traceapp.orgs.services import Actor

FIELD = "seal"
MAX_UPLOAD_BYTES = 2 * 1024 * 1024  # the default of the SEAL_MAX_BYTES setting
MAX_SIDE_PX = 800  # 800 px over a 20 mm seal is 1,000 dpi: more than any label printer
MIN_SIDE_PX = 32
MAX_PIXELS = 25_000_000  # a decompression bomb is refused before it is decoded
FORMATS = {"PNG", "JPEG"}


@dataclass(frozen=True)
class CleanSeal:
    """A seal image as stored: a PNG (RGBA, or RGB from a JPEG) and its size."""

    png: bytes
    width: int
    height: int


def clean_seal(data: bytes, *, max_bytes: int = MAX_UPLOAD_BYTES) -> CleanSeal:
    """Decode an uploaded PNG or JPEG and re-encode it as a PNG at most MAX_SIDE_PX a side.
    Raises PayloadTooLarge (over ``max_bytes``) and InvalidInput (field ``seal``): not an
    image, another format, too small."""
    if len(data) > max_bytes:
        message = _("The seal image may be at most %(kb)d KB.", kb=max_bytes // 1024)
        raise PayloadTooLarge(message, errors=[FieldError(FIELD, message)])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            if image.format not in FORMATS:
                raise InvalidInput(FIELD, _("Send the seal as a PNG or JPEG image."))
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput(FIELD, _("The seal image has too many pixels."))
            image.load()
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise InvalidInput(FIELD, _("The seal image has too many pixels.")) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(FIELD, _("Send the seal as a PNG or JPEG image.")) from None
    if min(image.size) < MIN_SIDE_PX:
        raise InvalidInput(FIELD, _("The seal image is too small: at least 32 pixels a side."))
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    image = image.convert("RGBA" if has_alpha else "RGB")
    image.thumbnail((MAX_SIDE_PX, MAX_SIDE_PX), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return CleanSeal(out.getvalue(), image.width, image.height)


def upload_seal(session: Session, actor: Actor, *, data: bytes, max_bytes: int = MAX_UPLOAD_BYTES) -> OrgSeal:
    """Make this image the organisation's seal from now on (certificates issued before keep
    theirs). Raises PermissionDenied (not an admin), PayloadTooLarge and InvalidInput
    (``clean_seal``)."""
    require(actor, Action.MANAGE_SETTINGS)
    clean = clean_seal(data, max_bytes=max_bytes)
    seal = OrgSeal(
        org_id=actor.org_id,
        uploaded_by_id=actor.user_id,
        sha256=hashlib.sha256(clean.png).hexdigest(),
        width=clean.width,
        height=clean.height,
        content=clean.png,
    )
    _retire_current(session, actor.org_id)
    session.add(seal)
    session.flush()
    audit.record_by(
        session,
        actor,
        action=audit.SEAL_CHANGED,
        subject_type="seal",
        subject_id=seal.id,
        details={"sha256": seal.sha256, "width": seal.width, "height": seal.height},
    )
    return seal


def remove_seal(session: Session, actor: Actor) -> None:
    """Certificates issued from now on carry no seal (those issued before keep theirs).
    Raises PermissionDenied."""
    require(actor, Action.MANAGE_SETTINGS)
    retired = _retire_current(session, actor.org_id)
    if retired is not None:
        audit.record_by(
            session,
            actor,
            action=audit.SEAL_CHANGED,
            subject_type="seal",
            subject_id=retired,
            details={"removed": True},
        )


def _retire_current(session: Session, org_id: uuid.UUID) -> uuid.UUID | None:
    current = current_seal_id(session, org_id)
    if current is not None:
        session.execute(sa.update(OrgSeal).where(OrgSeal.id == current).values(retired_at=utcnow()))
    return current


def current_seal_id(session: Session, org_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the organisation's current seal image, if it has one."""
    return session.scalar(
        sa.select(OrgSeal.id)
        .where(OrgSeal.org_id == org_id, OrgSeal.retired_at.is_(None))
        .order_by(OrgSeal.created_at.desc(), OrgSeal.id)
        .limit(1)
    )


def seal_png(session: Session, seal_id: uuid.UUID | None) -> bytes | None:
    """The stored PNG of one seal version (None for none)."""
    if seal_id is None:
        return None
    return session.scalar(sa.select(OrgSeal.content).where(OrgSeal.id == seal_id))


def seal_for_label(session: Session, seal_id: uuid.UUID | None) -> tuple[bytes, tuple[int, int]] | None:
    """One seal version's PNG and its size in pixels, for a label (None for none)."""
    if seal_id is None:
        return None
    row = session.execute(
        sa.select(OrgSeal.content, OrgSeal.width, OrgSeal.height).where(OrgSeal.id == seal_id)
    ).one_or_none()
    return None if row is None else (row.content, (row.width, row.height))


def current_seal(session: Session, actor: Actor) -> OrgSeal:
    """The organisation's current seal, with its image. Raises NotFound when it has none."""
    seal_id = current_seal_id(session, actor.org_id)
    seal = seal_id and session.scalar(
        sa.select(OrgSeal).options(undefer(OrgSeal.content)).where(OrgSeal.id == seal_id)
    )
    if not seal:
        raise NotFound(_("The organisation has no seal or signature image."))
    return seal
