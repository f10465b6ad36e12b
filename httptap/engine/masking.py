"""Masking secrets at the source, with a fast path for the common exchange that has none."""

from __future__ import annotations

from httptap import secrets
from httptap.model import Exchange

_MAX_NAMES = 4096  # header names remembered; a flood of distinct names restarts the cache


class FastMasker:
    """``mask_exchange``, skipped when it would change nothing (the common case): no header
    whose value it masks, and no query or userinfo in the path."""

    __slots__ = ("_names",)

    def __init__(self) -> None:
        self._names: dict[str, bool] = {}  # header name -> masking may change its value

    def __call__(self, ex: Exchange) -> None:
        names = self._names
        req = ex.request
        resp = ex.response
        path = req.path
        if "?" in path or "@" in path:
            secrets.mask_exchange(ex)
            return
        for headers in (req.headers, req.trailers,
                        resp.headers if resp is not None else (),
                        resp.trailers if resp is not None else ()):
            for name, _value in headers:
                hit = names.get(name)
                if hit is None:
                    hit = names[name] = _maskable(name)
                    if len(names) > _MAX_NAMES:
                        names.clear()
                if hit:
                    secrets.mask_exchange(ex)
                    return


def _maskable(name: str) -> bool:
    return secrets.is_secret_header(name) or name.lower() in secrets._URL_HEADERS
