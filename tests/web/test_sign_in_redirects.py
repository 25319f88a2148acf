"""The sign-in page sends a visitor back where they came from, on this site only."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from traceapp.orgs.models import OrgKind
from traceapp.urls import same_site_path

#: ``next`` values as the server sees them (the query string decoded once).
OFF_SITE = [
    "/\t/evil.example/",  # ?next=/%09/evil.example/: browsers drop the tab, leaving //evil.example/
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "//evil.example/x",
    "///evil.example/x",
    "/\\evil.example/x",  # browsers read the backslash as a slash
    "\\\\evil.example",
    "https://evil.example/",
    "javascript:alert(1)",
    "evil.example",
    " /certificates",
    "/%09/evil.example/",  # decoded twice on the way
    "/%2F/evil.example/",
    "/%5Cevil.example/",
    "/\u3000/evil.example/",  # ideographic space
    "/\u200b/evil.example/",  # zero-width space
    "/\x00/evil.example/",
    "",
]


def test_sign_in_never_follows_next_off_site(client, make):
    # Each sign-in checks a password hash (slow on purpose): a few of the attacks here, all of
    # them on same_site_path below.
    member = make.member()
    for target in ["/\t/evil.example/", "/\\evil.example/x", "//evil.example/x", "/%09/evil.example/"]:
        response = client.post(
            "/login", query_string={"next": target}, data={"login": member.user.email, "password": PASSWORD}
        )
        assert response.status_code == 302
        assert response.headers["Location"] == "/certificates", target


@pytest.mark.parametrize(
    "target", ["/certificates/new", "/batches?status=held&q=%E7%99%BD%E8%8F%9C%20A", "/t/X"]
)
def test_sign_in_returns_to_a_same_site_path(client, make, target):
    member = make.member()
    response = client.post(
        "/login", query_string={"next": target}, data={"login": member.user.email, "password": PASSWORD}
    )
    assert response.headers["Location"] == target


def test_a_refused_next_lands_where_the_organisation_starts(client, make):
    market = make.member(OrgKind.MARKET)
    response = client.post(
        "/login",
        query_string={"next": "/\t/evil.example/"},
        data={"login": market.user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/batches"


def test_the_login_redirect_of_a_protected_page_comes_back(client, make):
    member = make.member()
    sent = client.get("/certificates/new?x=1")
    assert sent.status_code == 302
    signed_in = client.post(sent.headers["Location"], data={"login": member.user.email, "password": PASSWORD})
    assert signed_in.headers["Location"] == "/certificates/new?x=1"


@pytest.mark.parametrize("target", OFF_SITE + [None])
def test_same_site_path_refuses_what_a_browser_would_take_elsewhere(target):
    assert same_site_path(target) is None


def test_same_site_path_keeps_paths_with_their_query():
    assert same_site_path("/recalls/1?columns=zh#top") == "/recalls/1?columns=zh#top"
    assert same_site_path("/证书") == "/证书"
