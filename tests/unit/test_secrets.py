"""Secrets are masked: sensitive headers (scheme word and cookie names kept), tokens in query
strings, trailers; and no secret survives into the contract dict, JSON lines or HAR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from httptap import contract
from httptap.export.har import HarWriter
from httptap.export.jsonl import JsonlWriter
from httptap.model import Exchange, Request, Response
from httptap.secrets import (
    MASK,
    is_secret_header,
    mask_exchange,
    mask_header_value,
    mask_headers,
    mask_url,
)
from tests.unit.test_filter_samples import SECRETS, samples


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("Authorization", True),
        ("authorization", True),
        ("Proxy-Authorization", True),
        ("Cookie", True),
        ("Set-Cookie", True),
        ("X-Api-Key", True),
        ("X-Auth-Token", True),
        ("X-CSRF-Token", True),
        ("x-upstream-secret", True),
        ("X-API_KEY", True),
        ("apikey", True),
        ("X-Password", True),
        ("Content-Type", False),
        ("Host", False),
        ("X-Request-Id", False),
        ("Access-Control-Allow-Credentials", False),
    ],
)
def test_is_secret_header(name: str, secret: bool) -> None:
    assert is_secret_header(name) is secret


def test_extra_patterns_add_header_and_query_names() -> None:
    assert not is_secret_header("X-Session-Id")
    assert is_secret_header("X-Session-Id", ["session"])
    assert mask_url("/a?sessid=1&x=2", ["^sess"]) == f"/a?sessid={MASK}&x=2"


@pytest.mark.parametrize(
    ("name", "value", "masked"),
    [
        ("Authorization", "Bearer abc.def.ghi", "Bearer ****"),
        ("Authorization", "Basic dXNlcjpwYXNz", "Basic ****"),
        ("authorization", "  Digest username=x, response=y", "Digest ****"),
        ("Authorization", "rawtoken", "****"),
        ("Authorization", "Bearer ****", "Bearer ****"),  # idempotent
        ("Proxy-Authorization", "Basic cHJveHk=", "Basic ****"),
        ("X-Api-Key", "key with spaces", "****"),  # only auth headers keep a first word
        ("Cookie", "session=abc; theme=dark", "session=****; theme=****"),
        ("Cookie", "flag; a=1;", "****; a=****"),
        (
            "Set-Cookie",
            "session=abc; Path=/; HttpOnly; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
            "session=****; Path=/; HttpOnly; Expires=Wed, 21 Oct 2026 07:28:00 GMT",
        ),
        ("Set-Cookie", "id=1", "id=****"),
        ("X-Auth-Token", "", ""),
    ],
)
def test_mask_header_value(name: str, value: str, masked: str) -> None:
    assert mask_header_value(name, value) == masked


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("/items?id=1", "/items?id=1"),
        ("/items", "/items"),
        ("/cb?access_token=abc&state=x", "/cb?access_token=****&state=x"),
        (
            "/s3?X-Amz-Signature=ff&X-Amz-Credential=AK&b=1",
            "/s3?X-Amz-Signature=****&X-Amz-Credential=****&b=1",
        ),
        (
            "/a?api_key=1&apiKey=2&secret=3&password=4&auth=5&sig=6",
            "/a?api_key=****&apiKey=****&secret=****&password=****&auth=****&sig=****",
        ),
        ("/a?signal=1&flag&token", "/a?signal=1&flag&token"),  # no value to hide
        ("/a?pass%77ord=x", "/a?pass%77ord=****"),  # names compared percent-decoded
        ("http://user:pw@proxy.example/x?key=1", "http://****@proxy.example/x?key=****"),
        ("https://h/cb?code=1#token=2", "https://h/cb?code=1#token=2"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_mask_headers_masks_urls_in_location_and_referer() -> None:
    got = mask_headers(
        [("Location", "/next?token=t1"), ("Referer", "http://a/?key=k"), ("X-Other", "/x?token=t")]
    )
    assert got == [
        ("Location", f"/next?token={MASK}"),
        ("Referer", f"http://a/?key={MASK}"),
        ("X-Other", "/x?token=t"),
    ]


def test_mask_exchange_in_place_covers_headers_trailers_and_path() -> None:
    ex = Exchange(
        request=Request(
            "GET",
            path="/x?token=t1&q=1",
            headers=[("Authorization", "Bearer b1"), ("Accept", "*/*")],
            trailers=[("x-checksum-secret", "s1")],
        ),
        response=Response(
            200, headers=[("Set-Cookie", "a=c1; Secure")], trailers=[("x-auth-token", "t2")]
        ),
    )
    assert mask_exchange(ex) is ex
    assert ex.request.path == "/x?token=****&q=1"
    assert ex.request.headers == [("Authorization", "Bearer ****"), ("Accept", "*/*")]
    assert ex.request.trailers == [("x-checksum-secret", "****")]
    assert ex.response is not None
    assert ex.response.headers == [("Set-Cookie", "a=****; Secure")]
    assert ex.response.trailers == [("x-auth-token", "****")]


def _assert_clean(text: str) -> None:
    leaked = [s for s in SECRETS if s in text]
    assert not leaked, leaked


def test_no_secret_survives_in_dict_jsonl_and_har(tmp_path: Path) -> None:
    exchanges = [mask_exchange(ex) for ex in samples().values()]
    _assert_clean(repr(exchanges))
    _assert_clean(json.dumps([contract.to_dict(ex) for ex in exchanges]))
    with JsonlWriter(tmp_path / "s.jsonl") as jw, HarWriter(tmp_path / "s.har") as hw:
        for ex in exchanges:
            jw.add(ex)
            hw.add(ex)
    _assert_clean((tmp_path / "s.jsonl").read_text())
    har = (tmp_path / "s.har").read_text()
    _assert_clean(har)
    # what is kept stays useful: the scheme word and the cookie names
    assert "Bearer ****" in har and "session=****" in har and '"name": "session"' in har


def test_unmasked_samples_do_contain_the_secrets() -> None:
    # guards the test above against samples that lost their secrets
    text = json.dumps([contract.to_dict(ex) for ex in samples().values()])
    assert all(s in text for s in SECRETS)
