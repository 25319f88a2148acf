"""Stored public pages: each certificate's consumer page, rendered once per change, not per view.

A row holds the page in both languages, gzip-compressed, with the version it was rendered from.
Every write that changes what a page shows bumps ``version`` in the same transaction (see
``pages``), so a row whose ``rendered_version`` lags behind, or that an older build of the
templates rendered, is never served: the view renders that page live instead.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from traceapp.certificates.models import ScanCount, ScanPlace  # noqa: F401 - kept in certificates (statuses read them)
from traceapp.db import Base


class PublicPage(Base):
    """The stored consumer page of one certificate."""

    __tablename__ = "public_pages"

    certificate_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True
    )
    #: A copy of the certificate's code (immutable), so a view is one look-up on one index.
    trace_code: Mapped[str] = mapped_column(sa.String(14), unique=True)
    #: Bumped by every write that changes what the page shows.
    version: Mapped[int] = mapped_column(default=1, server_default="1")
    rendered_version: Mapped[int | None]
    #: Fingerprint of the code, templates and catalogues that rendered the stored pages.
    build: Mapped[str | None] = mapped_column(sa.String(16))
    html_zh: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    html_en: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    rendered_at: Mapped[datetime | None]
