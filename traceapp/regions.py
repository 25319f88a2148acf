"""China's administrative division codes (行政区划代码): validation and names.

Data: ``data/regions.json`` (province, city and county levels; see ``data/REGIONS_LICENSE.txt``).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

CODE_RE = re.compile(r"^\d{6}$")


@cache
def _table() -> dict[str, dict[str, str]]:
    text = resources.files("traceapp").joinpath("data/regions.json").read_text("utf-8")
    return json.loads(text)


def is_known(code: str) -> bool:
    """True for a 6-digit code naming a county, city or province in the table."""
    if not CODE_RE.match(code or ""):
        return False
    table = _table()
    return any(code in table[level] for level in ("counties", "cities", "provinces"))


def full_name(code: str) -> str:
    """The name of a code with its parents, e.g. ``420116`` → ``湖北省武汉市黄陂区``.

    Unknown codes give the empty string. Municipalities don't repeat their name
    (``110101`` → ``北京市东城区``).
    """
    return "".join(_names(code))


def place(code: str, address: str | None) -> str:
    """A region's full name followed by an address in it, never saying a level twice: the
    address may start with the county, the city or the whole name (``420116`` and
    ``黄陂区木兰乡`` → ``湖北省武汉市黄陂区木兰乡``, not ``...黄陂区黄陂区木兰乡``)."""
    names, address = _names(code), (address or "").strip()
    for start in range(len(names)):
        if address.startswith("".join(names[start:])):
            return "".join(names[:start]) + address
    return "".join(names) + address


def _names(code: str) -> list[str]:
    if not is_known(code):
        return []
    table = _table()
    parts = [
        table["provinces"].get(code[:2] + "0000", ""),
        table["cities"].get(code[:4] + "00", ""),
        table["counties"].get(code, ""),
    ]
    names: list[str] = []
    for part in parts:
        if part and part not in names:
            names.append(part)
    return names
