"""Administrative division codes: validation, full names, and every name printable on a label."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from traceapp import regions
from traceapp.labels.render import missing_glyphs


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("420116", "湖北省武汉市黄陂区"),
        ("110101", "北京市东城区"),
        ("420100", "湖北省武汉市"),
        ("420000", "湖北省"),
    ],
)
def test_codes_resolve_to_their_full_names(code, name):
    assert regions.full_name(code) == name


@pytest.mark.parametrize(
    ("address", "place"),
    [
        ("木兰乡双河村", "湖北省武汉市黄陂区木兰乡双河村"),
        ("黄陂区木兰乡", "湖北省武汉市黄陂区木兰乡"),
        ("武汉市黄陂区木兰乡", "湖北省武汉市黄陂区木兰乡"),
        ("湖北省武汉市黄陂区木兰乡", "湖北省武汉市黄陂区木兰乡"),
        ("", "湖北省武汉市黄陂区"),
        (None, "湖北省武汉市黄陂区"),
    ],
)
def test_a_place_never_says_a_level_twice(address, place):
    assert regions.place("420116", address) == place


def test_a_place_of_a_municipality_or_an_unknown_code():
    assert regions.place("110101", "东城区王府井大街1号") == "北京市东城区王府井大街1号"
    assert regions.place("999999", "某地") == "某地"


@pytest.mark.parametrize("code", ["", "42011", "4201160", "abcdef", "999999", "420199"])
def test_malformed_or_unknown_codes_are_refused(code):
    assert not regions.is_known(code)
    assert regions.full_name(code) == ""


def test_every_place_name_prints_with_the_bundled_font():
    table = json.loads(resources.files("traceapp").joinpath("data/regions.json").read_text("utf-8"))
    names = "".join(name for level in table.values() for name in level.values())
    assert missing_glyphs(names) == set()
