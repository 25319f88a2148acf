"""The check behind every test: stored public pages are what a live render gives."""

from __future__ import annotations

import gzip

import sqlalchemy as sa
from flask import Flask

from traceapp.public import pages
from traceapp.public.models import PublicPage


def assert_stored_pages_current(app: Flask) -> None:
    """Each current stored page is what a live render of the data gives now."""
    with app.app_context():
        session = app.extensions["traceapp.db"].sessions()
        try:
            for code in session.scalars(
                sa.select(PublicPage.trace_code).where(
                    PublicPage.rendered_version == PublicPage.version,
                    PublicPage.build == pages.current_build(),
                )
            ).all():
                stored = {lang: pages.stored_page(code, lang) for lang in pages.LANGS}
                live = pages.render(session, code)
                assert live is not None, f"stored page for a code with no certificate: {code}"
                for lang in pages.LANGS:
                    page = stored[lang]
                    assert page is not None and page.html == gzip.decompress(live[lang]), (
                        f"the stored {lang} page of {code} is stale"
                    )
        finally:
            session.rollback()
            session.close()
