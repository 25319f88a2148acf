"""The links of a batch or a product, as a linkset (RFC 9264) and a ``Link`` header (RFC 8288),
and the Digital Link URI a batch's label carries.

Only what the batch's public page shows is linked: the page, the certificate on it, its
recall and revocation state, and the EPCIS document (whose own endpoint decides, per token,
what it shows). A product's links never list its batches: trace codes are random so that
nobody can enumerate a producer's batches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from traceapp import codes, gs1
from traceapp.certificates.models import Certificate
from traceapp.labels import qr
from traceapp.resolver import linktypes
from traceapp.resolver.linktypes import CERTIFICATION, DEFAULT, PIP, RECALL, TRACEABILITY
from traceapp.resolver.lookup import find_batch

LINKSET_TYPE = "application/linkset+json"
#: Our pages answer in Chinese or English by Accept-Language (or ?lang=).
PAGE_LANGUAGES = ("zh", "en")
PARTY_TITLE = _l("The organisation's page")
PARTY_RECORD_TITLE = _l("The organisation's record (JSON-LD)")


@dataclass(frozen=True)
class Link:
    """One target of a link type."""

    rel: str  #: the link type's short name, ``pip``
    href: str
    type: str
    hreflang: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)
    label: Any = None  #: a title of its own (lazily translated), else the link type's

    @property
    def title(self) -> str:
        return str(self.label if self.label is not None else linktypes.TITLES[self.rel])

    def target(self) -> dict[str, Any]:
        """The RFC 9264 target object."""
        target: dict[str, Any] = {"href": self.href, "title": self.title, "type": self.type}
        if self.hreflang:
            target["hreflang"] = list(self.hreflang)
        return target | self.extra


def product_page_url(base_url: str, gtin14: str) -> str:
    return f"{base_url}/products/{gtin14}"


def batch_links(base_url: str, gtin14: str, certificate: Certificate) -> list[Link]:
    """The links of one batch, the default first."""
    code = certificate.trace_code
    page = f"{base_url}/t/{code}"
    revoked = {"status": "revoked"} if certificate.is_revoked else {}
    return [
        Link(DEFAULT, page, "text/html", PAGE_LANGUAGES, revoked),
        Link(PIP, product_page_url(base_url, gtin14), "text/html", PAGE_LANGUAGES),
        Link(CERTIFICATION, page, "text/html", PAGE_LANGUAGES, revoked),
        Link(RECALL, f"{base_url}/t/{code}/status.json", "application/json", (), revoked),
        Link(TRACEABILITY, f"{base_url}/api/v1/codes/{code}/epcis", "application/ld+json"),
    ]


def product_links(base_url: str, gtin14: str) -> list[Link]:
    """The links of a product (a GTIN without a batch we know): its page is the default."""
    page = product_page_url(base_url, gtin14)
    return [Link(DEFAULT, page, "text/html", PAGE_LANGUAGES), Link(PIP, page, "text/html", PAGE_LANGUAGES)]


def party_links(page: str) -> list[Link]:
    """The links of a party (an organisation by its GLN): its public page, as HTML for people
    and as its JSON-LD record (the same URL, by content negotiation)."""
    return [
        Link(DEFAULT, page, "text/html", PAGE_LANGUAGES, label=PARTY_TITLE),
        Link(DEFAULT, page, "application/ld+json", label=PARTY_RECORD_TITLE),
    ]


def choose(links: list[Link], asked: str | None) -> Link:
    """The link a ``?linkType=`` asks for; the default link when it names none we have (the
    resolver standard's answer to an unavailable link type)."""
    name = linktypes.short_name(asked) if asked else None
    return next((link for link in links if link.rel == name), links[0])


def linkset(anchor: str, links: list[Link], description: str) -> dict[str, Any]:
    """The RFC 9264 ``application/linkset+json`` document: one context object, its anchor the
    Digital Link URI that was resolved, each link type's URI a member."""
    context: dict[str, Any] = {"anchor": anchor, "itemDescription": description}
    for link in links:
        context.setdefault(linktypes.uri(link.rel), []).append(link.target())
    return {"linkset": [context]}


def link_header(anchor: str, links: list[Link]) -> str:
    """The RFC 8288 ``Link`` header: every link, then the linkset itself (``rel="linkset"``)."""
    values = [
        f'<{link.href}>; rel="{linktypes.uri(link.rel)}"; type="{link.type}"'
        + "".join(f'; hreflang="{lang}"' for lang in link.hreflang)
        for link in links
    ]
    separator = "&" if urlsplit(anchor).query else "?"
    values.append(f'<{anchor}{separator}linkType=linkset>; rel="linkset"; type="{LINKSET_TYPE}"')
    return ", ".join(values)


def description(certificate: Certificate | None, product_name: str) -> str:
    """The linkset's ``itemDescription``: the product, and whether the batch is revoked."""
    if certificate is not None and certificate.is_revoked:
        return _("%(product)s (this certificate is revoked)", product=product_name)
    return product_name


# --- the label's QR --------------------------------------------------------------------------


def _qr_host(base_url: str) -> str:
    """``base_url`` with scheme and host in capitals (both are case-insensitive, RFC 3986 §3.1
    and §3.2.2), its path as it is (paths are case-sensitive)."""
    parts = urlsplit(base_url.rstrip("/"))
    return f"{parts.scheme.upper()}://{parts.netloc.upper()}{parts.path}"


def label_lot(session: Session, certificate: Certificate) -> str:
    """The lot (AI 10) the label's Digital Link carries: the producer's lot number when it is a
    valid GS1 lot (1 to 20 characters of GS1's character set 82) and resolves back to this very
    certificate, else the trace code (unique, and what our EPCIS documents use as the lot)."""
    lot = certificate.batch_no
    if lot and certificate.gtin:
        try:
            gs1.digital_link("https://x", certificate.gtin, lot=lot)
        except ValueError:
            return certificate.trace_code
        if find_batch(session, certificate.gtin.zfill(14), lot) is certificate:
            return lot
    return certificate.trace_code


def label_url(session: Session, certificate: Certificate, base_url: str) -> str:
    """What the label's QR encodes.

    Without a GTIN, our code URL as before (``codes.qr_url``). With one, the Digital Link
    ``HTTPS://HOST/01/{GTIN-14}/10/{lot}``: scheme and host upper-cased, the AIs are digits, so
    all but a lot with small letters or punctuation is in QR alphanumeric mode (5.5 bits a
    character, not 8). The lot keeps its case: GS1 lots are case-sensitive, and the trace code
    is in capitals anyway. The harvest date is added as the attribute ``?7007=YYMMDD`` only
    when it costs no larger symbol: ``?`` and ``=`` are not in the alphanumeric set, and the
    label prints the date and the page shows it anyway.

    The GTIN adds 19 characters to the code URL: with the suite's host (16 characters) both
    are version 3, but for some host lengths (below 14, or 18 to 36) the Digital Link needs
    one version more than the code URL did; README says so.
    """
    plain = codes.qr_url(base_url, certificate.trace_code)
    if not certificate.gtin:
        return plain
    link = gs1.digital_link(_qr_host(base_url), certificate.gtin, lot=label_lot(session, certificate))
    if certificate.harvest_date:
        dated = f"{link}?7007={certificate.harvest_date:%y%m%d}"
        if len(qr.symbol(dated)) <= len(qr.symbol(link)):
            return dated
    return link
