"""Reading what a request sends, once for every endpoint: JSON bodies, text, uploaded files.

A JSON body is read here before any schema sees it (``traceapp.api.StrictParser``): it must be
declared as JSON (else 415), be strict JSON (no ``NaN``, no integers past Python's 4,300-digit
conversion limit), nest at most ``limits.JSON_DEPTH`` levels, and hold no text a database cannot
store (a NUL, which PostgreSQL refuses, or a lone UTF-16 surrogate such as ``"\\ud800"``, which
no UTF-8 encoder takes). Each of these is a 4xx problem naming where it is; none reaches a
service, so nothing is written. Form fields and query strings meet the same text rule in
``traceapp.schemas.Str``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import FileStorage, MultiDict

from traceapp import limits
from traceapp.errors import InvalidInput, MalformedBody

#: A character no column can hold: NUL, or half of a UTF-16 surrogate pair on its own.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
#: How such a character can appear in valid JSON text: only as a ``\\u`` escape.
_ESCAPED_UNSTORABLE = re.compile(r"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})")
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)  # unrolled: no per-char alternation
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


def unstorable(text: str) -> bool:
    """Whether ``text`` holds a NUL or a lone surrogate."""
    return UNSTORABLE.search(text) is not None


def parse_json(body: bytes) -> Any:
    """The value of a JSON body. Raises MalformedBody (400, field ``/``) for a body that is not
    UTF-8 JSON or nests too deep, and InvalidInput (422) naming the first field whose text (key
    or value) holds a NUL or a lone surrogate."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedBody(_("The body is not UTF-8 text.")) from None
    if _too_deep(text):
        raise MalformedBody(_("The body is nested more than %(depth)d levels deep.", depth=limits.JSON_DEPTH))
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):  # JSONDecodeError, NaN, integers past the digit limit
        raise MalformedBody(_("The body is not valid JSON.")) from None
    if _ESCAPED_UNSTORABLE.search(text):  # cheap test first: the walk is rarely needed
        for pointer in _unstorable_fields(value, ""):
            raise InvalidInput(pointer, _("Text may not contain a NUL character or a lone surrogate."))
    return value


def _too_deep(text: str) -> bool:
    """Whether the brackets of JSON text, strings left out, nest deeper than
    ``limits.JSON_DEPTH`` (read before parsing: linear, no recursion)."""
    if text.count("[") + text.count("{") <= limits.JSON_DEPTH:
        return False
    brackets = _NOT_BRACKET.sub("", _JSON_STRING.sub("", text))
    return max(accumulate(map(_STEP.__getitem__, brackets)), default=0) > limits.JSON_DEPTH


def _no_constant(name: str) -> Any:
    raise ValueError(name)  # NaN, Infinity: not JSON (RFC 8259)


def _unstorable_fields(value: Any, pointer: str) -> Iterator[str]:
    if isinstance(value, str):
        if unstorable(value):
            yield pointer or "/"
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{pointer}/{UNSTORABLE.sub(chr(0xFFFD), key)}"
            if unstorable(key):
                yield child
            yield from _unstorable_fields(item, child)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_fields(item, f"{pointer}/{index}")


def one_file(files: MultiDict[str, FileStorage], name: str) -> FileStorage:
    """The one file sent in multipart field ``name``. Raises InvalidInput naming the field when
    there is none, or more than one (a second part would be dropped without a word)."""
    upload = optional_file(files, name)
    if upload is None:
        raise InvalidInput(name, _("Send the file in the multipart field '%(name)s'.", name=name))
    return upload


def optional_file(files: MultiDict[str, FileStorage], name: str) -> FileStorage | None:
    """The file chosen in form field ``name``, or None when none was (a form posts an empty
    part for a file input left alone). Raises InvalidInput naming the field for several."""
    sent = [f for f in files.getlist(name) if f.filename]
    if len(sent) > 1:
        raise InvalidInput(name, _("Send one file in the field '%(name)s', not several.", name=name))
    return sent[0] if sent else None
