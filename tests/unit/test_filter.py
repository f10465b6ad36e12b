"""The filter language: a table of valid filters over sample exchanges, a table of invalid
filters with the caret column, pid pinning, and the generated help."""

from __future__ import annotations

import re

import pytest

from httptap.filter import Filter, FilterError, compile_filter, help_text
from httptap.filter.fields import FIELDS
from httptap.filter.help import EXAMPLES
from tests.unit.test_filter_samples import samples

SAMPLES = samples()
ALL = frozenset(SAMPLES)
H1 = frozenset({"h1_get", "h1_post_tls", "pending", "server", "binary", "gzip"})
STATUS_2XX = frozenset({"h1_get", "h2_big", "grpc", "server", "binary", "gzip"})
GET = frozenset({"h1_get", "h2_big", "server", "gzip"})
POST = frozenset({"h1_post_tls", "grpc", "pending"})

VALID: list[tuple[str, frozenset[str]]] = [
    ("", ALL),
    ("   ", ALL),
    ("method=POST", POST),
    ("method=post", POST),
    ("method==GET", GET),
    ("method = POST", POST),
    ("METHOD=get", GET),
    ("host=api.stripe.com and status>=400", {"h1_post_tls"}),
    ('host="api.stripe.com"', {"h1_post_tls"}),
    ("host!~example", {"h1_post_tls", "grpc", "pending", "server"}),
    ('method=POST or path~"^/v1/charges"', POST),
    ("not (status<400)", {"h1_post_tls", "pending"}),
    ("not status<400", {"h1_post_tls", "pending"}),
    ("status!=200", {"h1_post_tls", "server"}),  # the pending one has no status: false
    ("not status=200", {"h1_post_tls", "server", "pending"}),
    ("status=4xx", {"h1_post_tls"}),
    ("status=2XX", STATUS_2XX),
    ("status!=2xx", {"h1_post_tls"}),
    ("status>2xx", {"h1_post_tls"}),
    ("status<=2xx", STATUS_2XX),
    ("status~^2", STATUS_2XX),
    ("status!~^2", {"h1_post_tls"}),
    ("status contains 0", ALL - {"pending"}),
    ("status", ALL - {"pending"}),
    ("not status", {"pending"}),
    ("latency>200ms", {"h1_post_tls", "h2_big"}),
    ("latency>1s", {"h2_big"}),
    ("latency>=1.5s", {"h2_big"}),
    ("latency<500us", set()),
    ("latency<=500us", {"server"}),
    ("latency<=500µs", {"server"}),
    ("latency<1", {"server"}),
    ("ttfb>=240", {"h1_post_tls", "h2_big"}),
    ("latency", ALL - {"pending"}),
    ("size>10k", {"h2_big"}),
    ("size>=20000", {"h2_big"}),
    ("size>0.01M", {"h2_big"}),
    ("size<1k", ALL - {"h2_big", "pending"}),
    ("req.size>0", {"h1_post_tls", "grpc", "pending", "binary"}),
    ("resp.size=0", {"server"}),
    ("proto=h2", {"h2_big"}),
    ("proto=http/1.1", H1),
    ("proto=h1", H1),
    ("proto=grpc", {"grpc"}),
    ("proto~^h", ALL - {"grpc"}),
    ("tls", {"h1_post_tls", "h2_big"}),
    ("tls=true", {"h1_post_tls", "h2_big"}),
    ("tls=false", ALL - {"h1_post_tls", "h2_big"}),
    ("tls!=yes", ALL - {"h1_post_tls", "h2_big"}),
    ("not tls", ALL - {"h1_post_tls", "h2_big"}),
    ("role=server", {"server"}),
    ("role!=server", ALL - {"server"}),
    ("pid=100", {"h1_get", "h1_post_tls", "binary", "gzip"}),
    ("pid=200 or pid=300", {"h2_big", "grpc", "pending"}),
    ("pid>=300", {"pending", "server"}),
    ("header.content-type~json", {"h1_get", "h1_post_tls", "pending", "gzip"}),
    ("HEADER.Content-Type~JSON", {"h1_get", "h1_post_tls", "pending", "gzip"}),
    ("req.header.content-type~json", {"pending"}),
    ("resp.header.content-type~json", {"h1_get", "h1_post_tls", "gzip"}),
    ("header.x-trace=b", {"h1_get"}),
    ("header.x-trace!=b", set()),  # repeated header: != means none of its values is b
    ("header.x-trace!=c", {"h1_get"}),
    ("resp.header.grpc-status!=0", {"grpc"}),
    ("header.user-agent", {"h2_big"}),
    ("header.:path=/static/app.js", {"h2_big"}),
    ('body~"error"', {"h1_post_tls", "pending"}),
    ("body contains needle", {"gzip"}),  # gzip'd response body, matched decoded
    ("resp.body contains DECLINED", {"h1_post_tls"}),
    ("req.body contains currency", {"h1_post_tls"}),
    ("resp.body~✗", {"h1_post_tls"}),
    ("body~^\\x89PNG", {"binary"}),
    ("grpc.service=payments.Billing", {"grpc"}),
    ("grpc.method=charge", {"grpc"}),
    ("grpc.status!=0", {"grpc"}),
    ("grpc.status=0", set()),
    ("not grpc.status=5", ALL - {"grpc"}),
    ("note~truncated", {"h2_big"}),
    ("note", {"h2_big", "pending"}),
    ("stripe", {"h1_post_tls"}),
    ("API.EXAMPLE", {"h1_get", "binary", "gzip"}),
    ('"/v1/"', {"h1_get", "h1_post_tls"}),
    ("'status'", set()),
    ("https:", {"h1_post_tls", "h2_big"}),
    ("method=GET or method=PUT and pid=200", GET),
    ("(method=GET or method=PUT) and pid=100", {"h1_get", "binary", "gzip"}),
    ("not method=GET and pid=100", {"h1_post_tls", "binary"}),
    ("NOT tls AND pid=200", {"grpc"}),
    ("((tls))", {"h1_post_tls", "h2_big"}),
    ("url~^https://api\\.stripe", {"h1_post_tls"}),
    ('path~"\\d"', {"h1_get", "h1_post_tls"}),
    ('path~"users\\?id="', {"h1_get"}),
    ("path contains /v1/users?id=7", {"h1_get"}),  # a bare value runs to the next blank
    ("url contains 'STATIC/app'", {"h2_big"}),
    ("host=localhost:8000", {"server"}),  # no authority: the Host header
    ("status=200\tand\nproto=h2", {"h2_big"}),
]


@pytest.mark.parametrize(("text", "expected"), VALID, ids=[t for t, _ in VALID])
def test_valid_filter(text: str, expected: frozenset[str]) -> None:
    flt = compile_filter(text)
    assert flt.text == text
    got = {name for name, ex in SAMPLES.items() if flt.matches(ex)}
    assert got == set(expected)
    assert {name for name, ex in SAMPLES.items() if flt(ex)} == got


INVALID: list[tuple[str, int, str]] = [
    ("status>=4x0 and", 8, "a number"),
    ("status<=abc", 8, "a number"),
    ("latency>abc", 8, "a duration such as 200ms"),
    ("latency>200 ms", 12, "'and', 'or' or the end of the filter"),
    ("size>10q", 5, "a size"),
    ("tls=maybe", 4, "true or false"),
    ("proto=h3", 6, "one of http/1.1"),
    ("role=boss", 5, "one of client, server"),
    ("grpc.status>x", 12, "a number"),
    ("method<GET", 6, "= != ~ !~ or contains (method is a text field)"),
    ("latency~fast", 7, "= != < <= > or >= (latency is a duration field)"),
    ("tls>1", 3, "= or != (tls is a boolean field)"),
    ("foo=1", 0, "a field name"),
    ("stauts=1", 0, "a field name such as status"),
    ("x contains y", 0, "a field name"),
    ("header.=x", 7, "a header name after 'header.'"),
    ("req.header.=x", 11, "a header name after 'req.header.'"),
    ("header.a/b=x", 7, "a header name"),
    ("status=", 7, "a value after '='"),
    ("status= ", 8, "a value after '='"),
    ("(status=)", 8, "a value"),
    ("status=200 method=GET", 11, "'and', 'or' or the end of the filter"),
    ("(status=200", 11, "'and', 'or' or ')'"),
    ("(status=200 tls", 12, "'and', 'or' or ')'"),
    ("status=200)", 10, "'and', 'or' or the end of the filter"),
    ("()", 1, "a comparison such as status>=400, a word or '('"),
    (")", 0, "a comparison"),
    ("and", 0, "a comparison"),
    ("status=200 and", 14, "a comparison"),
    ("status=200 or or", 14, "a comparison"),
    ("not", 3, "a comparison"),
    ("= 3", 0, "a comparison"),
    ("!tls", 0, "'!=', '!~' or the word 'not'"),
    ('path~"(abc"', 6, "a valid regular expression (missing ), unterminated subpattern"),
    ('path~"abc["', 9, "a valid regular expression (unterminated character set"),
    ("path~a(b", 6, "a valid regular expression"),
    ('path~"a\\tb(c"', 10, "a valid regular expression"),  # after an escape
    ('host="api', 9, 'a closing " (string opened at column 5)'),
    ("'abc", 4, "a closing '"),
    ('path~"\\x4"', 6, "2 hex digits after \\x"),
]


INVALID.append(("(" * 101 + "tls" + ")" * 101, 100, "at most 100 nested"))
INVALID.append(("not " * 101 + "tls", 400, "at most 100 nested"))


def test_long_chains_do_not_recurse() -> None:
    text = " and ".join(["not status=999"] * 5000)
    assert compile_filter(text).matches(SAMPLES["h1_get"])
    assert compile_filter(" or ".join(["pid=9"] * 5000) + " or pid=100").pids() == {9, 100}


@pytest.mark.parametrize(("text", "column", "expected"), INVALID, ids=[t for t, _, _ in INVALID])
def test_invalid_filter(text: str, column: int, expected: str) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    err = info.value
    assert (err.text, err.column) == (text, column)
    assert err.expected.startswith(expected)


def test_error_message_quotes_filter_and_puts_caret_under_column() -> None:
    with pytest.raises(FilterError) as info:
        compile_filter("status>=4x0 and")
    assert str(info.value) == (
        "bad filter: status>=4x0 and\n"
        "                    ^ expected a number"
    )  # fmt: skip
    lines = str(info.value).splitlines()
    assert lines[1].index("^") == lines[0].index("4x0")


def test_error_caret_stays_aligned_with_tabs_and_wide_characters() -> None:
    with pytest.raises(FilterError) as info:
        compile_filter("host=日本\tand status>x")
    first, second = str(info.value).splitlines()
    assert "\t" not in first
    # 日本 takes four terminal columns, so the caret sits two columns past its index.
    assert second.index("^") == first.index("status>x") + len("status>") + 2


def test_regex_is_compiled_once_at_compile_time() -> None:
    flt = compile_filter('path~"^/v1/(users|charges)"')
    assert flt.matches(SAMPLES["h1_post_tls"])
    assert isinstance(flt.tree.test.__closure__[0].cell_contents, re.Pattern)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "pids"),
    [
        ("", None),
        ("status=200", None),
        ("pid=12", {12}),
        ("pid=12 and status>=400", {12}),
        ("status>=400 and pid=12", {12}),
        ("pid=12 or pid=13", {12, 13}),
        ("(pid=12 or pid=13) and (pid=13 or pid=14)", {13}),
        ("pid=12 and pid=13", set()),
        ("pid=12 or status=500", None),
        ("not pid=12", None),
        ("pid!=12", None),
        ("pid>12", None),
        ("pid=1xx", None),
        ('pid="12"', {12}),
    ],
)
def test_pids(text: str, pids: set[int] | None) -> None:
    assert compile_filter(text).pids() == pids


def test_empty_filter() -> None:
    flt = compile_filter("  ")
    assert flt.empty and flt.tree is None and flt.pids() is None
    assert isinstance(flt, Filter) and "Filter" in repr(flt)


def test_help_lists_every_field_operator_and_unit() -> None:
    text = help_text()
    for f in FIELDS:
        assert f.title in text and f.doc in text and f.example in text
    for op in ("=", "!=", "<", "<=", ">", ">=", "~", "contains", "and", "or", "not"):
        assert op in text
    for unit in ("ms", "us", " s", "k", "M"):
        assert unit.strip() in text


@pytest.mark.parametrize("example", [f.example for f in FIELDS] + list(EXAMPLES))
def test_every_help_example_compiles(example: str) -> None:
    compile_filter(example)


def test_every_field_is_evaluable_on_every_sample() -> None:
    for f in FIELDS:
        name = f.name + ("x-any" if f.param else "")
        flt = compile_filter(name)
        for ex in SAMPLES.values():
            assert isinstance(flt.matches(ex), bool)


def test_tree_string_reparses_to_the_same_meaning() -> None:
    for text, expected in VALID:
        tree = compile_filter(text).tree
        if tree is None:
            continue
        again = compile_filter(str(tree))
        got = {name for name, ex in SAMPLES.items() if again.matches(ex)}
        assert got == set(expected), (text, str(tree))
