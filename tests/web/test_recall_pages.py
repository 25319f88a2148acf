"""Trace, recall and overview pages for people, on graphs built through the real services."""

from __future__ import annotations

import re

import pytest

from tests.api.test_trace_recall_api import recall, world  # noqa: F401  (fixture)
from tests.web.test_certificate_pages import sign_in
from traceapp.orgs.models import OrgKind


def test_the_trace_page_draws_the_graph_and_the_mass_balance(client, world):  # noqa: F811
    sign_in(client, world["regulator"])
    html = client.get(f"/trace?code={world['cabbage']}&direction=forward&lang=en").get_data(as_text=True)
    assert '<svg class="graph"' in html and "切块白菜A" in html and "蔬菜拼盘" in html
    assert "<script" not in html
    chinese = client.get(f"/trace?code={world['cabbage']}&direction=forward&lang=zh_CN").get_data(
        as_text=True
    )
    assert "千克" in chinese and not re.search(r"\d kg\b", chinese)  # units in the page's language
    assert not re.search(r"[\u4e00-\u9fff]: ", chinese)  # 已售：, not 已售:
    unknown = client.get("/trace?code=NOPE")
    assert unknown.status_code == 404


def test_opening_a_recall_from_the_page_and_acknowledging_it(client, world):  # noqa: F811
    sign_in(client, world["regulator"])
    response = client.post(
        "/recalls/new",
        data={
            "trace_codes": world["cabbage"].lower(),
            "reason": "农残超标",
            "severity": "class_i",
            "instructions": "退货",
        },
    )
    assert response.status_code == 302
    recall_url = response.headers["Location"]
    mine = client.get(recall_url + "?lang=en").get_data(as_text=True)
    assert "Opened the recall" in mine and "Acknowledge</button>" not in mine
    client.post("/logout")
    sign_in(client, world["market"])
    assert "Acknowledge" in client.get(recall_url + "?lang=en").get_data(as_text=True)
    assert client.post(recall_url + "/acknowledge").status_code == 302
    assert "Acknowledge</button>" not in client.get(recall_url + "?lang=en").get_data(as_text=True)
    listed = client.get("/recalls?lang=en").get_data(as_text=True)
    assert "农残超标" in listed


def test_a_bad_recall_form_names_the_field(client, world):  # noqa: F811
    sign_in(client, world["regulator"])
    response = client.post(
        "/recalls/new?lang=en", data={"trace_codes": "NOPE", "reason": "x", "severity": "class_i"}
    )
    assert response.status_code == 422 and "No certificate has this trace code." in response.get_data(
        as_text=True
    )


def test_who_issues_nothing_opens_no_recall_and_only_regulators_see_the_overview(client, make, world):  # noqa: F811
    sign_in(client, make.member(OrgKind.CARRIER))
    assert client.get("/recalls/new").status_code == 403
    assert "Open a recall" not in client.get("/recalls?lang=en").get_data(as_text=True)
    client.post("/logout")
    sign_in(client, world["market"])
    assert client.get("/overview").status_code == 403


def test_a_processor_recalls_what_it_made_from_the_page_as_through_the_api(client, world):  # noqa: F811
    sign_in(client, world["processor"])
    assert "Open a recall" in client.get("/recalls?lang=en").get_data(as_text=True)
    response = client.post(
        "/recalls/new", data={"trace_codes": world["mix"], "reason": "金属异物", "severity": "class_ii"}
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    assert "Close the recall" in client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)


def test_the_overview_counts_checks_failures_and_excursions(client, world):  # noqa: F811
    recall(client, world["regulator"], [world["cabbage"]])
    sign_in(client, world["regulator"])
    html = client.get("/overview?lang=en").get_data(as_text=True)
    assert html.count('<svg class="chart"') == 4
    assert "湖北省武汉市" in html
    assert "Open recalls: <strong>1</strong>" in html
    assert "进行中的召回：<strong>1</strong>" in client.get("/overview?lang=zh").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/trace", "/recalls", "/recalls/new", "/overview"])
def test_recall_pages_need_sign_in(client, url):
    assert client.get(url).status_code == 302
