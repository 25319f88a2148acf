"""Labels of what a buyer collected with a lot, in the reader's language."""

from flask_babel import lazy_gettext as _l

COLLECTED_LABELS = {
    "ours": _l("Our certificate (scanned or typed code)"),
    "foreign": _l("Another system's certificate (its code and link)"),
    "paper": _l("Paper certificate (photo)"),
    "none": _l("No certificate: say why"),
}
EXEMPTION_LABELS = {"own_produce": _l("Own produce (自产)"), "other": _l("Other reason")}
