"""Pure rules of who is told: which regulators a region's events concern."""

from __future__ import annotations


def region_prefix(code: str) -> str:
    """The part of an administrative division code that names it: ``420000`` (a province) →
    ``42``, ``420100`` (a city) → ``4201``, ``420116`` (a district) → ``420116``."""
    while code.endswith("00"):
        code = code[:-2]
    return code


def covers(regulator_region: str | None, region: str | None) -> bool:
    """Whether a regulator of ``regulator_region`` oversees ``region``: its province, city or
    district contains it. A regulator with no region oversees none (it is told nothing by
    region); ``000000`` stands for the whole country."""
    if not regulator_region or not region:
        return False
    return region.startswith(region_prefix(regulator_region))
