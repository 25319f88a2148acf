"""App-wide Jinja filters work on any app, without a blueprint registering them."""

from decimal import Decimal

from flask import Flask, render_template_string
from flask_babel import Babel

from traceapp import templating
from traceapp.certificates.models import Unit
from traceapp.codes import mint_trace_code


def test_quantity_and_trace_code_filters_are_registered_on_the_app_itself():
    app = Flask(__name__)
    Babel(app)
    templating.init_app(app)
    code = mint_trace_code()
    with app.test_request_context():
        html = render_template_string(
            "{{ q|quantity(u) }} {{ c|trace_code }}", q=Decimal("500"), u=Unit.KG, c=code
        )
    assert html == f"500 kg {code[:4]}-{code[4:8]}-{code[8:12]}-{code[12:]}"
