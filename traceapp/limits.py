"""How much one request may hold: every input limit in one place (README "Input limits").

Each is set well past real use, so that nobody doing their job meets it, and low enough that a
request within it finishes far inside the server's timeout. The schemas declare them, so the
OpenAPI document states them (``maxItems``, ``maxLength``, ``maximum``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

#: JSON bodies: levels of nesting (our deepest body, a processing output's origin, has four).
JSON_DEPTH = 32
#: Field errors listed in one problem; the detail says how many there were in all.
LISTED_ERRORS = 50
#: Unknown keys beyond this many in one object are answered at once, the first of them listed.
LISTED_UNKNOWN = 20
#: A text field with no length of its own (codes, names in queries ...).
TEXT_LENGTH = 1_000
#: Temperature readings on one leg: a logger reading every minute for a week (10,080), or every
#: five minutes for a month; also the most readings one logger file may hold.
TEMPERATURES = 20_000
#: Rapid tests in one gate check (a full multi-residue panel is a few dozen).
TESTS = 50
#: Inputs of one transformation (a cooperative merging its members' lots).
INPUTS = 200
#: Outputs of one transformation or portioning (a stall cutting a lorry into 2,000 bags).
OUTPUTS = 3_000
#: Events in one ``POST /api/v1/events/batch`` (a scanner's backlog goes in several).
EVENTS_PER_BATCH = 1_000
#: Trace codes named by one recall.
RECALL_CODES = 200
#: Pages of a list (at 100 a page, ten million rows).
PAGE = 100_000
#: Pixels of an image lab report: a 48-megapixel phone photo or an A4 scan at 600 dpi (35 Mpx)
#: fits; a small file that declares more is a decompression bomb.
REPORT_PIXELS = 50_000_000
#: How far an event's time may run ahead of the server's clock (a device's clock drifts).
CLOCK_SKEW = timedelta(minutes=10)
#: The earliest time an event, reading or test may carry.
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


def latest() -> datetime:
    """The latest time an event may carry now: the server's clock plus the allowed skew."""
    return datetime.now(UTC) + CLOCK_SKEW
