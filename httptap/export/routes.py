"""Route templates for metric labels and span names: ``/users/42/orders`` → ``/users/{id}/orders``.

httptap sees paths, not the framework's routes, so it guesses the template: numeric, UUID and
long hex or base64-ish segments become ``{id}`` and the query is dropped. ``RouteTemplates``
bounds the number of distinct routes (label cardinality): past the limit, new ones are
``{other}``.
"""

from __future__ import annotations

import re
import threading
from urllib.parse import urlsplit

ID = "{id}"
OTHER = "{other}"
#: distinct routes kept before new ones count as ``{other}``
DEFAULT_LIMIT = 500
#: a route longer than this is cut (a label value is no place for a whole URL)
MAX_ROUTE_LENGTH = 200

_NUMERIC = re.compile(r"[0-9]+")
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}"
)
_HEX = re.compile(r"(?=[a-fA-F]*[0-9])[0-9a-fA-F]{12,}")
# base64/base64url tokens, also with padding; a digit and a letter so that long words stay
_B64 = re.compile(r"(?=.*[0-9])(?=.*[A-Za-z])[A-Za-z0-9_\-+=]{20,}")


def template_segment(segment: str) -> str:
    """``{id}`` for a segment that looks like an identifier, else the segment unchanged."""
    if not segment:
        return segment
    if (_NUMERIC.fullmatch(segment) or _UUID.fullmatch(segment) or _HEX.fullmatch(segment)
            or _B64.fullmatch(segment)):
        return ID
    return segment


def template_path(path: str) -> str:
    """The route template of a request target (origin-form or absolute-form); no limit."""
    if path.startswith(("http://", "https://")):
        path = urlsplit(path).path
    path = path.split("?", 1)[0].split("#", 1)[0]
    if not path.startswith("/"):
        return "/" if not path or path == "*" else path[:MAX_ROUTE_LENGTH]
    route = "/".join(template_segment(s) for s in path.split("/"))
    return route[:MAX_ROUTE_LENGTH]


class RouteTemplates:
    """``route(path)``: the template of ``path``, at most ``limit`` distinct ones. Thread-safe."""

    def __init__(self, limit: int = DEFAULT_LIMIT) -> None:
        self.limit = limit
        self._routes: set[str] = set()
        # paths repeat (a service calls the same few URLs): cache path → route, bounded
        self._cache: dict[str, str] = {}
        self._lock = threading.Lock()

    def route(self, path: str) -> str:
        """The route label for ``path``: its template, or ``{other}`` past the limit."""
        hit = self._cache.get(path)
        if hit is not None:
            return hit
        route = template_path(path)
        with self._lock:
            if route not in self._routes:
                if len(self._routes) >= self.limit:
                    route = OTHER
                else:
                    self._routes.add(route)
            if len(self._cache) >= 4 * self.limit:
                self._cache.clear()
            self._cache[path] = route
        return route

    def __len__(self) -> int:
        return len(self._routes)
