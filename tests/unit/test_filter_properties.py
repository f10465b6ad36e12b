"""Property tests: ``not`` inverts, ``and``/``or`` compose as booleans, precedence holds,
and the parenthesised tree reads back to the same filter — over random filter trees and
random exchanges."""

from __future__ import annotations

from typing import Union

from hypothesis import given, settings
from hypothesis import strategies as st

from httptap.filter import compile_filter
from httptap.model import (
    Body,
    Connection,
    Exchange,
    GrpcCall,
    Proto,
    Request,
    Response,
    Role,
    Timings,
)

# Atoms cover every field type, the negative operators and a missing value.
ATOMS = [
    "method=GET", "method~^p", "host contains example", "path~^/v1", "url~^https",
    "status>=400", "status=2xx", "status!=200", "status", "status~5$",
    "latency>100ms", "latency<=1s", "ttfb<5", "size>1k", "req.size=0", "resp.size<10",
    "proto=h2", "proto!=grpc", "tls", "tls=false", "role=server", "pid=1", "pid>2",
    "header.x-a=1", "header.x-a!=1", "req.header.x-a~^[0-9]$", "resp.header.x-b",
    "body contains err", "resp.body~ok", "grpc.status!=0", "grpc.method=Get",
    "note", "api", '"/v1/"',
]  # fmt: skip

Tree = Union[str, tuple]  # noqa: UP007 - a runtime alias for the recursive strategy

trees = st.recursive(
    st.sampled_from(ATOMS),
    lambda kids: st.one_of(
        st.tuples(st.just("not"), kids),
        st.tuples(st.sampled_from(["and", "or"]), kids, kids),
    ),
    max_leaves=8,
)


def render(tree: Tree) -> str:
    if isinstance(tree, str):
        return tree
    if tree[0] == "not":
        return f"not ({render(tree[1])})"
    return f"({render(tree[1])}) {tree[0]} ({render(tree[2])})"


def reference(tree: Tree, ex: Exchange) -> bool:
    """Boolean algebra over the atoms, each evaluated on its own."""
    if isinstance(tree, str):
        return compile_filter(tree).matches(ex)
    if tree[0] == "not":
        return not reference(tree[1], ex)
    if tree[0] == "and":
        return reference(tree[1], ex) and reference(tree[2], ex)
    return reference(tree[1], ex) or reference(tree[2], ex)


headers = st.lists(
    st.tuples(st.sampled_from(["X-A", "x-b", "Content-Type"]), st.sampled_from(["", "1", "2"])),
    max_size=3,
)
opt_ms = st.one_of(st.none(), st.integers(0, 2_000_000_000))


@st.composite
def exchanges(draw: st.DrawFn) -> Exchange:
    has_response = draw(st.booleans())
    response = None
    if has_response:
        response = Response(
            status=draw(st.one_of(st.none(), st.sampled_from([100, 200, 204, 302, 404, 500]))),
            headers=draw(headers),
            body=Body(draw(st.sampled_from([b"", b"ok", b"error!", b"\xff\x00"])),
                      draw(st.integers(0, 5000))),
        )  # fmt: skip
    grpc = None
    if draw(st.booleans()):
        grpc = GrpcCall("pkg.Svc", draw(st.sampled_from(["Get", "Put"])),
                        draw(st.one_of(st.none(), st.integers(0, 16))))  # fmt: skip
    return Exchange(
        connection=Connection(
            pid=draw(st.integers(0, 4)),
            role=draw(st.sampled_from(list(Role))),
            tls=draw(st.booleans()),
            protocol=draw(st.sampled_from([Proto.HTTP1, Proto.H2])),
        ),
        request=Request(
            method=draw(st.sampled_from(["GET", "POST", "put", ""])),
            authority=draw(st.sampled_from(["", "api.example.com", "localhost:1"])),
            path=draw(st.sampled_from(["", "/", "/v1/x?y=1", "/api/err"])),
            headers=draw(headers),
            body=Body(draw(st.sampled_from([b"", b"err", b"{}"])), draw(st.integers(0, 3))),
        ),
        response=response,
        timings=Timings(0, draw(opt_ms), draw(opt_ms), draw(opt_ms)),
        grpc=grpc,
        notes=draw(st.lists(st.sampled_from(["joined mid-connection"]), max_size=1)),
    )


@settings(max_examples=300, deadline=None)
@given(trees, exchanges())
def test_filter_tree_is_boolean_algebra_of_its_atoms(tree: Tree, ex: Exchange) -> None:
    assert compile_filter(render(tree)).matches(ex) is reference(tree, ex)


@settings(max_examples=200, deadline=None)
@given(trees, exchanges())
def test_not_inverts(tree: Tree, ex: Exchange) -> None:
    text = render(tree)
    assert compile_filter(f"not ({text})").matches(ex) is not compile_filter(text).matches(ex)


@settings(max_examples=200, deadline=None)
@given(trees, trees, exchanges())
def test_and_or_compose(a: Tree, b: Tree, ex: Exchange) -> None:
    fa, fb = compile_filter(render(a)).matches(ex), compile_filter(render(b)).matches(ex)
    assert compile_filter(f"({render(a)}) and ({render(b)})").matches(ex) is (fa and fb)
    assert compile_filter(f"({render(a)}) or ({render(b)})").matches(ex) is (fa or fb)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(ATOMS), st.sampled_from(ATOMS), st.sampled_from(ATOMS), exchanges())
def test_precedence_not_over_and_over_or(a: str, b: str, c: str, ex: Exchange) -> None:
    def m(text: str) -> bool:
        return compile_filter(text).matches(ex)

    assert m(f"{a} or {b} and {c}") is m(f"({a}) or (({b}) and ({c}))")
    assert m(f"{a} and {b} or {c}") is m(f"(({a}) and ({b})) or ({c})")
    assert m(f"not {a} and {b}") is m(f"(not ({a})) and ({b})")
    assert m(f"not not {a}") is m(a)


@settings(max_examples=200, deadline=None)
@given(trees, exchanges())
def test_parenthesised_tree_reads_back_the_same(tree: Tree, ex: Exchange) -> None:
    flt = compile_filter(render(tree))
    assert compile_filter(str(flt.tree)).matches(ex) is flt.matches(ex)
