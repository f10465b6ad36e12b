"""The route and URL-literal finder of the language server: ast parsing and path matching."""

from __future__ import annotations

import textwrap

import pytest
from httptap.lsp.patterns import host_key, route_regex, template_regex
from httptap.lsp.routes import ExchangeKey, Target, find_targets

from httptap.model import Connection, Exchange, Request, Role


def _targets(src: str) -> list[Target]:
    return find_targets(textwrap.dedent(src))


def _key(method: str, path: str, role: str = "server", host: str = "127.0.0.1:8000") -> ExchangeKey:
    ex = Exchange(
        connection=Connection(role=Role(role)),
        request=Request(method=method, path=path, authority=host),
    )
    return ExchangeKey.of(ex)


def _only(src: str) -> Target:
    found = _targets(src)
    assert len(found) == 1, found
    return found[0]


# -- path templates ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "good", "bad"),
    [
        (
            "/users/<int:id>",
            ["/users/42", "/users/42/"],
            ["/users/x", "/users/42/orders", "/users"],
        ),
        ("/users/<id>", ["/users/abc"], ["/users/a/b", "/users/"]),
        ("/files/<path:p>", ["/files/a/b/c.txt"], ["/files/", "/other"]),
        ("/u/<uuid:u>", ["/u/123e4567-e89b-12d3-a456-426614174000"], ["/u/123"]),
        ("/p/<float:x>", ["/p/1.5", "/p/2"], ["/p/abc"]),
        ("/a/<any(x, y):kind>", ["/a/x"], ["/a/x/y"]),
        ("/items/{item_id}", ["/items/7", "/items/abc"], ["/items/7/x"]),
        ("/items/{item_id:int}", ["/items/7"], ["/items/x"]),
        ("/static/{rest:path}", ["/static/css/a.css"], ["/other/a"]),
        ("/n/{n:\\d+}", ["/n/12"], ["/n/ab"]),
        ("/n/{n:\\d{2}}", ["/n/12"], ["/n/123"]),
        ("/b/<name:int>", ["/b/5", "/b/-5"], ["/b/x"]),
        ("/b/<name:re:[a-z]+>", ["/b/abc"], ["/b/123"]),
        ("/", ["/"], ["/x"]),
    ],
)
def test_route_templates(template: str, good: list[str], bad: list[str]) -> None:
    rx = route_regex(template)
    for path in good:
        assert rx.match(path), (template, path)
    for path in bad:
        assert not rx.match(path), (template, path)


def test_template_regex_escapes_literals() -> None:
    assert template_regex("/a.b+c") == "/a\\.b\\+c"


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("127.0.0.1:8080", "localhost:8080"),
        ("LOCALHOST:8080", "localhost:8080"),
        ("[::1]:8080", "localhost:8080"),
        ("api.example.com:443", "api.example.com"),
        ("api.example.com:80", "api.example.com"),
        ("api.example.com:8443", "api.example.com:8443"),
        ("api.example.com:443", "api.example.com"),
    ],
)
def test_host_key(host: str, key: str) -> None:
    assert host_key(host) == key


# -- frameworks ----------------------------------------------------------------------------


def test_flask_route_methods_prefix_and_columns() -> None:
    found = _targets(
        """
        from flask import Flask, Blueprint
        app = Flask(__name__)
        bp = Blueprint("api", __name__, url_prefix="/api")

        @app.route("/users/<int:uid>", methods=["GET", "POST"])
        def user(uid): ...

        @bp.get("/items/<name>")
        def item(name): ...

        @app.route("/any")
        def anything(): ...

        app.add_url_rule("/rule/<int:x>", "rule", view, methods=["DELETE"])
        """
    )
    user, item, anything, rule = found
    assert (user.kind, user.line, user.col) == ("route", 5, 1)
    assert user.label == "GET/POST /users/<int:uid>"
    assert user.methods == {"GET", "HEAD", "POST"}
    assert user.matches(_key("POST", "/users/7?x=1"))
    assert not user.matches(_key("DELETE", "/users/7"))
    assert not user.matches(_key("GET", "/users/seven"))
    assert not user.matches(_key("GET", "/users/7", role="client"))  # outbound: not a route
    assert item.label == "GET /api/items/<name>"
    assert item.matches(_key("GET", "/api/items/pen"))
    assert not item.matches(_key("GET", "/items/pen"))
    assert anything.methods is None and anything.matches(_key("PATCH", "/any"))
    assert rule.matches(_key("DELETE", "/rule/3"))
    assert not rule.matches(_key("GET", "/rule/3"))


def test_fastapi_router_prefixes() -> None:
    found = _targets(
        """
        from fastapi import FastAPI, APIRouter
        app = FastAPI()
        router = APIRouter(prefix="/v1")

        @router.get("/things/{thing_id}")
        async def thing(thing_id: int): ...

        @router.post("")
        async def create(): ...

        @app.api_route("/multi", methods=["PUT", "PATCH"])
        def multi(): ...

        app.include_router(router, prefix="/api")
        """
    )
    thing, create, multi = found
    assert thing.label == "GET /api/v1/things/{thing_id}"
    assert thing.matches(_key("GET", "/api/v1/things/12"))
    assert thing.matches(_key("HEAD", "/api/v1/things/12"))
    assert create.matches(_key("POST", "/api/v1"))
    assert multi.methods == {"PUT", "PATCH"}


def test_starlette_routes_inside_mounts() -> None:
    found = _targets(
        """
        from starlette.routing import Mount, Route
        routes = [
            Route("/", home),
            Mount("/users", routes=[
                Route("/{user_id:int}", user, methods=["GET"]),
                Mount("/admin", routes=[Route("/stats", stats)]),
            ]),
        ]
        """
    )
    home, user, stats = found
    assert home.matches(_key("GET", "/"))
    assert user.label == "GET /users/{user_id:int}"
    assert user.matches(_key("GET", "/users/3")) and not user.matches(_key("GET", "/users/x"))
    assert stats.matches(_key("POST", "/users/admin/stats"))
    assert user.line == 5


def test_django_urlpatterns() -> None:
    found = _targets(
        r"""
        from django.urls import include, path, re_path
        urlpatterns = [
            path("", views.index),
            path("articles/<int:year>/", views.year),
            path("api/", include([
                path("users/<slug:name>/", views.user),
            ])),
            re_path(r"^archive/(?P<y>[0-9]{4})/$", views.archive),
        ]
        """
    )
    index, year, user, archive = found
    assert index.matches(_key("GET", "/")) and not index.matches(_key("GET", "/x/"))
    assert year.matches(_key("GET", "/articles/2024/"))
    assert year.matches(_key("GET", "/blog/articles/2024/"))  # included under a prefix
    assert not year.matches(_key("GET", "/articles/abc/"))
    assert user.label == "/api/users/<slug:name>/"
    assert user.matches(_key("GET", "/api/users/jo-e/"))
    assert archive.matches(_key("GET", "/archive/2020/"))
    assert not archive.matches(_key("GET", "/archive/20/"))


def test_aiohttp_routes() -> None:
    found = _targets(
        r"""
        from aiohttp import web
        routes = web.RouteTableDef()

        @routes.get("/a/{name}")
        async def a(request): ...

        app = web.Application()
        app.router.add_post("/b/{n:\\d+}", b)
        app.router.add_route("*", "/c", c)
        app.add_routes([web.delete("/d", d)])
        """
    )
    a, b, c, d = found
    assert a.matches(_key("GET", "/a/x"))
    assert b.matches(_key("POST", "/b/12")) and not b.matches(_key("POST", "/b/x"))
    assert c.methods is None and c.matches(_key("OPTIONS", "/c"))
    assert d.matches(_key("DELETE", "/d"))


def test_bottle_style_bare_decorators() -> None:
    t = _only(
        """
        from bottle import route
        @route("/hello/<name:int>", method="POST")
        def hello(name): ...
        """
    )
    assert t.matches(_key("POST", "/hello/5")) and not t.matches(_key("GET", "/hello/5"))


def test_not_routes() -> None:
    # client calls with a path, os.path, strings without a leading slash: not routes
    assert _targets(
        """
        import os
        client.get("/users", params={"a": 1})
        os.path.join("a", "b")
        cache.get("key", None)
        path = "relative/thing"
        """
    ) == []


# -- URL literals --------------------------------------------------------------------------


def test_url_literals_with_constants_fstrings_and_concatenation() -> None:
    found = _targets(
        '''
        """Docs mention http://docs.example.com/guide, which is no target."""
        import os
        BASE = os.getenv("API_BASE", "http://localhost:8080")

        class Client:
            STRIPE = "https://api.stripe.com/v1"

            def charge(self, cid):
                return requests.post(self.STRIPE + "/charges/" + cid)

        def user(uid):
            return httpx.get(f"{BASE}/users/{uid}")

        def search(q):
            return httpx.get(f"http://search.internal:9200/idx/_search?q={q}")
        '''
    )
    labels = [t.label for t in found]
    assert labels == [
        "http://localhost:8080",
        "https://api.stripe.com/v1",
        "https://api.stripe.com/v1/charges/{…}",
        "http://localhost:8080/users/{…}",
        "http://search.internal:9200/idx/_search?q={…}",
    ]
    base, stripe, charges, users, search = found
    assert all(t.kind == "url" for t in found)
    assert users.line == 12

    def out(method: str, host: str, path: str) -> ExchangeKey:
        return _key(method, path, role="client", host=host)

    assert users.matches(out("GET", "127.0.0.1:8080", "/users/42"))
    assert users.matches(out("GET", "localhost:8080", "/users/42?full=1"))
    assert not users.matches(out("GET", "127.0.0.1:8080", "/users"))
    assert not users.matches(out("GET", "127.0.0.1:9090", "/users/42"))
    assert not users.matches(_key("GET", "/users/42", role="server", host="127.0.0.1:8080"))
    assert base.matches(out("GET", "127.0.0.1:8080", "/anything"))  # host + prefix "/"
    assert stripe.matches(out("POST", "api.stripe.com:443", "/v1/charges/ch_1"))
    assert not stripe.matches(out("POST", "api.stripe.com", "/v10"))  # segment boundary
    assert charges.matches(out("POST", "api.stripe.com", "/v1/charges/ch_1"))
    assert search.matches(out("GET", "search.internal:9200", "/idx/_search?q=shoes&x=1"))


def test_url_with_runtime_host() -> None:
    t = _only('requests.get(f"http://{host}:8000/health")\n')
    assert t.matches(_key("GET", "/health", role="client", host="10.0.0.5:8000"))
    assert not t.matches(_key("GET", "/health", role="client", host="10.0.0.5:9000"))


def test_unresolvable_strings_are_not_urls() -> None:
    assert _targets('x = f"{scheme}://h/p"\ny = "ftp://h/p"\nz = f"{base}/p"\n') == []


def test_syntax_error_raises() -> None:
    with pytest.raises(SyntaxError):
        find_targets("@app.get('/x'\ndef f(): ...")


def test_columns_are_characters_not_bytes() -> None:
    t = _only('ä = "é"; u = "http://h/x"\n')
    assert t.col == len('ä = "é"; u = ')
