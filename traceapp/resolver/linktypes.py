"""The GS1 Web Vocabulary link types we answer, as a ``?linkType=`` may name them.

A link type is named by its CURIE (``gs1:pip``) or its URI in either of GS1's namespaces
(``https://gs1.org/voc/pip``, ``https://ref.gs1.org/voc/pip``); the linkset and the ``Link``
header use the ``https://gs1.org/voc/`` URI, as GS1's own resolver does.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

NAMESPACE = "https://gs1.org/voc/"
#: Other spellings of the namespace a client may send.
ALIASES = ("https://ref.gs1.org/voc/", "http://gs1.org/voc/", "https://www.gs1.org/voc/")
PREFIX = "gs1:"

DEFAULT = "defaultLink"
PIP = "pip"
TRACEABILITY = "traceability"
CERTIFICATION = "certificationInfo"
RECALL = "recallStatus"

#: Link type → its title, in the request's language.
TITLES = {
    DEFAULT: _l("Trace page of the batch"),
    PIP: _l("Product information"),
    TRACEABILITY: _l("Traceability data (GS1 EPCIS 2.0)"),
    CERTIFICATION: _l("Compliance certificate"),
    RECALL: _l("Recall and revocation status"),
}
#: ``?linkType=`` values that ask for the whole linkset.
ALL = frozenset({"all", "linkset"})


def uri(name: str) -> str:
    """The full URI of a link type: ``https://gs1.org/voc/pip``."""
    return NAMESPACE + name


def curie(name: str) -> str:
    return PREFIX + name


def short_name(asked: str) -> str | None:
    """The link type a ``?linkType=`` value names (``pip``), or None when it names none of GS1's.

    GS1's link types are case-sensitive (``gs1:recallStatus``), so no case is folded.
    """
    for prefix in (PREFIX, NAMESPACE, *ALIASES):
        if asked.startswith(prefix) and len(asked) > len(prefix):
            return asked[len(prefix) :]
    return None
