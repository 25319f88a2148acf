"""SVG primitives, and the drawings built on them keep their exact markup."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from traceapp import svg
from traceapp.coldchain.chart import leg_svg
from traceapp.recalls.drawing import trace_svg

T0 = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)


def test_ints_are_written_as_they_are_and_floats_to_one_decimal():
    assert (
        svg.rect(34, 40.25, 278, 0.0, fill="#fff")
        == '<rect x="34" y="40.2" width="278" height="0.0" fill="#fff"/>'
    )
    assert svg.circle(1, 2, 2.5, stroke_width=1) == '<circle cx="1" cy="2" r="2.5" stroke-width="1"/>'
    assert svg.circle(1, 2, 2.5, stroke_width=1.0) == '<circle cx="1" cy="2" r="2.5" stroke-width="1.0"/>'


def test_text_and_attribute_values_are_escaped():
    assert (
        svg.text(1, 2, "A&B <x>", font_size=10) == '<text x="1" y="2" font-size="10">A&amp;B &lt;x&gt;</text>'
    )
    html = svg.document([], size=(10, 20), css_class="chart", width="100%", label='"冷链" <b>')
    assert html == (
        '<svg class="chart" viewBox="0 0 10 20" width="100%" role="img" '
        'aria-label="&quot;冷链&quot; &lt;b&gt;" xmlns="http://www.w3.org/2000/svg"></svg>'
    )


def test_leg_chart_markup_is_unchanged():
    points = [
        (T0, Decimal("3")),
        (T0 + timedelta(minutes=10), Decimal("6.5")),
        (T0 + timedelta(minutes=20), Decimal("4")),
    ]
    assert leg_svg(points, (Decimal("0"), Decimal("5")), label="冷链") == (
        '<svg class="chart" viewBox="0 0 320 120" width="100%" role="img" aria-label="冷链" '
        'xmlns="http://www.w3.org/2000/svg"><rect x="34" y="40.2" width="278" height="56.5" fill="#e3f1e7"/>'
        '<polyline points="34.0,62.8 173.0,23.3 312.0,51.5" fill="none" stroke="#1b1f23" stroke-width="1.5"/>'
        '<circle cx="173.0" cy="23.3" r="2.5" fill="#b3261e"/>'
        '<text x="2" y="26.3" font-size="10" fill="#555">6°C</text>'
        '<text x="2" y="99.7" font-size="10" fill="#555">0°C</text>'
        '<text x="34" y="119" font-size="10" fill="#555">08:00</text>'
        '<text x="312" y="119" text-anchor="end" font-size="10" fill="#555">08:20</text></svg>'
    )


def test_trace_graph_markup_is_unchanged():
    trace = {
        "root": "AAAA1",
        "direction": "forward",
        "batches": [
            {"trace_code": "AAAA1", "product_name": "白菜", "quantity": "5", "unit": "kg"},
            {"trace_code": "BBBB1", "product_name": "A&B", "quantity": "2", "unit": "kg", "recalled": True},
        ],
        "links": [{"from": "AAAA1", "to": "BBBB1", "consumed": "2"}],
    }
    assert trace_svg(trace) == (
        '<svg class="graph" viewBox="0 0 360 80" width="360" role="img" xmlns="http://www.w3.org/2000/svg">'
        '<line x1="160" y1="33" x2="200" y2="33" stroke="#555" stroke-width="1.2"/>'
        '<text x="180" y="30" font-size="10" fill="#555" text-anchor="middle">2</text>'
        '<g><rect x="10" y="10" width="150" height="46" rx="6" fill="#e7efe9" stroke="#0b6b3a" '
        'stroke-width="2"/>'
        '<text x="18" y="29" font-size="13" font-weight="600">白菜</text>'
        '<text x="18" y="47" font-size="11" fill="#444">AAAA… · 5 kg</text></g>'
        '<g><rect x="200" y="10" width="150" height="46" rx="6" fill="#fbe3e1" stroke="#9bb9a6" '
        'stroke-width="1"/>'
        '<text x="208" y="29" font-size="13" font-weight="600">A&amp;B</text>'
        '<text x="208" y="47" font-size="11" fill="#444">BBBB… · 2 kg</text></g></svg>'
    )
