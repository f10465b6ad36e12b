"""The custom requests' parameters: plain JSON values, checked, with the errors clients get."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from httptap.filter import Filter, FilterError, compile_filter


def as_request(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A custom-request handler (pygls tags handlers with attributes: no bound methods)."""
    if asyncio.iscoroutinefunction(fn):

        async def run_async(params: Any) -> Any:
            return await fn(params)

        return run_async

    def run(params: Any) -> Any:
        return fn(params)

    return run


def as_command(fn: Callable[[Any], Any]) -> Callable[..., Any]:
    """A ``workspace/executeCommand`` handler: one object argument, or positional values."""

    async def run(*args: Any) -> Any:
        args = tuple(plain(a) for a in args)
        if len(args) == 1 and isinstance(args[0], dict):
            params: Any = args[0]
        elif fn.__name__ == "attach":
            params = {"pid": args[0] if args else None}
            if len(args) > 1:
                params["filter"] = args[1]
        elif fn.__name__ == "exchange":
            params = {"id": args[0] if args else None}
        else:
            params = {}
        result = fn(params)
        return await result if asyncio.iscoroutine(result) else result

    return run


def params_of(params: Any) -> dict[str, Any]:
    params = plain(params)
    if params is None:
        return {}
    if isinstance(params, dict):
        return params
    raise JsonRpcInvalidParams(f"params must be an object, got {type(params).__name__}")


def plain(value: Any) -> Any:
    """pygls hands over custom params as namedtuples: back to plain JSON values."""
    if isinstance(value, tuple) and hasattr(value, "_asdict"):
        return {k: plain(v) for k, v in value._asdict().items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def filter_param(text: Any) -> Filter | None:
    if text is None or (isinstance(text, str) and not text.strip()):
        return None
    if not isinstance(text, str):
        raise JsonRpcInvalidParams("'filter' must be a string")
    try:
        return compile_filter(text)
    except FilterError as exc:
        # str(exc) is the caret message every front end shows
        raise JsonRpcInvalidParams(str(exc), data={"column": exc.column}) from exc


def int_param(value: Any, default: int, name: str) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise JsonRpcInvalidParams(f"{name!r} must be a non-negative integer, got {value!r}")
    return value
