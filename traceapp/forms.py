"""HTML forms load through the same marshmallow schemas as the API.

Field names in forms are dotted paths (``origin.region_code``); errors come back keyed by the
same JSON pointers the API reports (``/origin/region_code``), so one macro shows them in place.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from traceapp.errors import FieldError, flatten_messages


def form_payload(form: MultiDict[str, str], *, lists: frozenset[str] = frozenset()) -> dict[str, Any]:
    """Turn a posted form into the nested dict a schema loads; empty fields count as absent.

    Numbered segments make lists of rows (``tests.0.item``, ``tests.1.item``); rows left
    entirely empty disappear.
    """
    payload: dict[str, Any] = {}
    for name in form:
        if name == "csrf_token":
            continue
        value: Any = form.getlist(name) if name in lists else form.get(name, "").strip()
        if value in ("", []):
            continue
        _put(payload, name.split("."), value)
    return _rows_to_lists(payload)


def _rows_to_lists(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    converted = {k: _rows_to_lists(v) for k, v in value.items()}
    if converted and all(k.isdigit() for k in converted):
        return [converted[k] for k in sorted(converted, key=int)]
    return converted


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    for key in path[:-1]:
        target = target.setdefault(key, {})
    target[path[-1]] = value


def error_map(messages: Any = None, errors: list[FieldError] | None = None) -> dict[str, str]:
    """Field errors keyed by JSON pointer, from marshmallow messages and/or domain errors."""
    flat = flatten_messages(messages) if messages else []
    return {e.field: e.message for e in [*flat, *(errors or [])]}
