"""Route templating for metric labels and span names: identifiers → {id}, bounded cardinality."""

from __future__ import annotations

import pytest

from httptap.export.routes import OTHER, RouteTemplates, template_path


@pytest.mark.parametrize(("path", "route"), [
    ("/users/42/orders", "/users/{id}/orders"),
    ("/users/42/orders?page=2&token=x", "/users/{id}/orders"),
    ("/items/550e8400-e29b-41d4-a716-446655440000", "/items/{id}"),
    ("/items/550E8400E29B41D4A716446655440000", "/items/{id}"),
    ("/blobs/sha/9f86d081884c7d659a2feaa0c55ad015", "/blobs/sha/{id}"),
    ("/s/dGhpcyBpcyBhIHRva2VuMTIz", "/s/{id}"),
    ("/a/eyJhbGciOiJIUzI1NiJ9_x-y", "/a/{id}"),
    ("/v1/health", "/v1/health"),
    ("/api/v2/users", "/api/v2/users"),
    ("/static/app.min.js", "/static/app.min.js"),
    ("/a/deadbeef", "/a/deadbeef"),  # short hex is a word
    ("/a/abcdefabcdefabcdef", "/a/abcdefabcdefabcdef"),  # hex letters only: a word
    ("/internationalization/x", "/internationalization/x"),  # long word, no digit
    ("/helloworld.Greeter/SayHello", "/helloworld.Greeter/SayHello"),
    ("http://example.com/users/7?q=1", "/users/{id}"),
    ("/", "/"),
    ("", "/"),
    ("*", "/"),
    ("/x/1#frag", "/x/{id}"),
    ("/trailing/12/", "/trailing/{id}/"),
])
def test_template_path(path: str, route: str) -> None:
    assert template_path(path) == route


def test_long_routes_are_cut() -> None:
    assert len(template_path("/" + "a" * 1000)) == 200


def test_cardinality_is_bounded_and_known_routes_stay() -> None:
    routes = RouteTemplates(limit=3)
    assert routes.route("/a/1") == "/a/{id}"
    assert routes.route("/b") == "/b"
    assert routes.route("/c?x=1") == "/c"
    assert routes.route("/d") == OTHER
    assert routes.route("/e/9") == OTHER
    # routes seen before the limit keep their name, whatever the identifier
    assert routes.route("/a/999") == "/a/{id}"
    assert routes.route("/c?y=2") == "/c"
    assert len(routes) == 3


def test_many_distinct_paths_give_at_most_limit_routes() -> None:
    routes = RouteTemplates(limit=500)
    seen = {routes.route(f"/r{i}/x/{i}") for i in range(5000)}
    seen |= {routes.route(f"/users/{i}") for i in range(5000)}  # one route: {id}
    assert len(seen) == 501 and OTHER in seen
    assert routes.route("/r0/x/77") == "/r0/x/{id}"
    # the path cache is bounded too
    assert len(routes._cache) <= 4 * 500
