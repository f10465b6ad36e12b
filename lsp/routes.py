"""Source lines that HTTP traffic can be pinned to, found by parsing Python with ``ast``.

Two kinds of target:

- **routes** (inbound traffic): Flask/Quart/Bottle/FastAPI/Starlette/aiohttp decorators
  (``@app.route``, ``@app.get``, ``@router.post``, ``@routes.get``, ``@app.api_route``),
  ``app.add_url_rule``/``add_api_route``/``router.add_get``/``add_route``, Starlette
  ``Route``/``Mount``, aiohttp ``web.get(path, handler)``, Django ``path``/``re_path``/``url``
  with ``include([...])`` nesting. Prefixes from ``Blueprint(url_prefix=)``,
  ``APIRouter(prefix=)``, ``register_blueprint``/``include_router`` in the same module apply.
- **URL literals** (outbound traffic): strings, f-strings and ``+`` concatenations that start
  with ``http://`` or ``https://``, with module- and class-level string constants (and
  ``os.getenv``/``environ.get`` defaults) substituted where a name is used.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from httptap.model import Exchange, Role

from .patterns import WILD, django_regex, host_key, route_regex, url_matcher

_VERBS = {"get", "post", "put", "patch", "delete", "head", "options", "trace"}
_ROUTE_DECORATORS = _VERBS | {"route", "api_route"}
_AIOHTTP_ADD = {f"add_{v}": v for v in _VERBS}
_MAX_DEPTH = 6


@dataclass(frozen=True, slots=True)
class Target:
    """One source range that traffic is matched to.

    Lines are 0-based; columns are character (code point) offsets into the line.
    """

    kind: str  # "route" | "url"
    label: str
    line: int
    col: int
    end_line: int
    end_col: int
    path_re: re.Pattern[str]
    methods: frozenset[str] | None = None  # routes: None accepts any method
    host_re: re.Pattern[str] | None = None  # URL literals only

    def matches(self, key: ExchangeKey) -> bool:
        """Whether an exchange (through its precomputed ``key``) belongs to this target."""
        if self.kind == "route":
            if key.role == "client":
                return False
            if self.methods is not None and key.method not in self.methods:
                return False
            return self.path_re.match(key.path) is not None
        if key.role == "server":
            return False
        assert self.host_re is not None
        return (
            self.host_re.match(key.host) is not None
            and self.path_re.match(key.path_query) is not None
        )


@dataclass(frozen=True, slots=True)
class ExchangeKey:
    """What target matching needs of an exchange, computed once per exchange."""

    role: str
    method: str
    host: str
    path: str
    path_query: str

    @classmethod
    def of(cls, ex: Exchange) -> ExchangeKey:
        """The key of ``ex``."""
        raw = ex.request.path or "/"
        host = ex.host
        if raw.startswith(("http://", "https://")):  # absolute-form (proxy requests)
            parts = urlsplit(raw)
            host = parts.netloc
            raw = parts.path + (f"?{parts.query}" if parts.query else "")
        path = raw.split("?", 1)[0].split("#", 1)[0] or "/"
        role = ex.connection.role
        return cls(
            role=role.value if isinstance(role, Role) else str(role),
            method=ex.request.method.upper(),
            host=host_key(host),
            path=path,
            path_query=raw,
        )


def find_targets(source: str) -> list[Target]:
    """Every route declaration and URL literal in ``source``; raises SyntaxError."""
    with warnings.catch_warnings():
        # invalid escapes in the user's strings are theirs to hear about, not the server log's
        warnings.simplefilter("ignore")
        tree = ast.parse(source)
    finder = _Finder(source.splitlines())
    finder.prepare(tree)
    finder.visit(tree)
    finder.targets.sort(key=lambda t: (t.line, t.col))
    return finder.targets


# -- the finder ------------------------------------------------------------------------


class _Finder(ast.NodeVisitor):
    def __init__(self, lines: Sequence[str]) -> None:
        self.lines = lines
        self.targets: list[Target] = []
        self.consts: dict[str, ast.expr] = {}
        self.prefixes: dict[str, str] = {}
        self.docstrings: set[int] = set()
        self.prefix: list[str] = []  # Starlette Mount / Django include nesting

    # first pass: constants, router prefixes, docstrings
    def prepare(self, tree: ast.AST) -> None:
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if (
                    body
                    and isinstance(body[0], ast.Expr)
                    and isinstance(body[0].value, ast.Constant)
                    and isinstance(body[0].value.value, str)
                ):
                    self.docstrings.add(id(body[0].value))
            if isinstance(node, ast.Module | ast.ClassDef):
                for stmt in node.body:
                    name, value = _assignment(stmt)
                    if name is not None and value is not None:
                        self.consts[name] = value
                        prefix = _router_prefix(value)
                        if prefix is not None:
                            self.prefixes[name] = prefix
        # app.include_router(router, prefix=...) / app.register_blueprint(bp, url_prefix=...)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("include_router", "register_blueprint")
                and node.args
                and isinstance(node.args[0], ast.Name)
            ):
                extra = _kw_str(node, "prefix") or _kw_str(node, "url_prefix")
                if extra:
                    name = node.args[0].id
                    self.prefixes[name] = extra.rstrip("/") + self.prefixes.get(name, "")

    # routes declared by decorators
    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for dec in node.decorator_list:
            self._decorator(dec)
        self.generic_visit(node)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Call(self, node: ast.Call) -> None:
        name = _func_name(node.func)
        if name in ("Mount", "include") or name in ("path", "re_path", "url"):
            if self._nested_or_django(node, name):
                return
        elif name == "Route":
            path = _arg_str(node, 0, "path")
            if path is not None and path.startswith("/"):
                methods = _str_list(_kwarg(node, "methods"))
                self._route(node, path, methods)
        elif name in ("add_url_rule", "add_api_route") and isinstance(node.func, ast.Attribute):
            path = _arg_str(node, 0, "rule") or _arg_str(node, 0, "path")
            if path is not None and path.startswith("/"):
                methods = _str_list(_kwarg(node, "methods"))
                self._route(node, self._owner_prefix(node.func) + path, methods)
        elif name in _AIOHTTP_ADD and isinstance(node.func, ast.Attribute):
            path = _arg_str(node, 0, "path")
            if path is not None and path.startswith("/"):
                self._route(node, path, [_AIOHTTP_ADD[name]])
        elif name in ("add_route", "route") and len(node.args) >= 3:
            # aiohttp: router.add_route("GET", "/p", handler), web.route("*", "/p", handler)
            method, path = _const_str(node.args[0]), _const_str(node.args[1])
            if method is not None and path is not None and path.startswith("/"):
                self._route(node, path, None if method == "*" else [method])
        elif name in _VERBS and len(node.args) >= 2 and isinstance(node.func, ast.Attribute):
            # aiohttp: web.get("/p", handler) inside app.add_routes([...])
            path = _const_str(node.args[0])
            if path is not None and path.startswith("/"):
                self._route(node, path, [name])
        self.generic_visit(node)

    # URL literals
    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and id(node) not in self.docstrings:
            self._url(node, [node.value])

    def visit_JoinedStr(self, node: ast.JoinedStr) -> None:
        parts = self._parts(node, 0)
        if parts is None or not self._url(node, parts):
            self.generic_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> None:
        parts = self._parts(node, 0) if isinstance(node.op, ast.Add) else None
        if parts is None or not self._url(node, parts):
            self.generic_visit(node)

    # -- helpers ---------------------------------------------------------------------

    def _decorator(self, dec: ast.expr) -> None:
        if not isinstance(dec, ast.Call):
            return
        name = _func_name(dec.func)
        if name not in _ROUTE_DECORATORS:
            return
        path = _arg_str(dec, 0, "path") or _arg_str(dec, 0, "rule")
        prefix = self._owner_prefix(dec.func)
        if path is None or not (path.startswith("/") or (path == "" and prefix)):
            return
        if name in _VERBS:
            methods: list[str] | None = [name]
        else:
            methods = _str_list(_kwarg(dec, "methods") or _kwarg(dec, "method"))
        self._route(dec, prefix + path, methods)

    def _owner_prefix(self, func: ast.expr) -> str:
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
            return self.prefixes.get(func.value.id, "")
        return ""

    def _nested_or_django(self, node: ast.Call, name: str) -> bool:
        """Mount/include nesting and Django path(); True when children were visited here."""
        if name == "Mount":
            path = _arg_str(node, 0, "path")
            if path is None:
                return False
            self.prefix.append(path.rstrip("/"))
            try:
                self.generic_visit(node)
            finally:
                self.prefix.pop()
            return True
        if name == "include":
            return False
        pattern = _arg_str(node, 0, "route")
        if pattern is None or len(node.args) < 2 or pattern.startswith("/"):
            return False
        if name == "url" and not pattern.startswith("^"):
            return False  # a bare url(...) is too common a name to guess at
        view = node.args[1]
        if isinstance(view, ast.Call) and _func_name(view.func) == "include":
            self.prefix.append(pattern)
            try:
                self.generic_visit(node)
            finally:
                self.prefix.pop()
            return True
        is_regex = name != "path"
        full = "".join(self.prefix) + pattern
        if is_regex and self.prefix:
            full = "".join(p.removeprefix("^").removesuffix("$") for p in [*self.prefix, pattern])
        self._add(
            node,
            "route",
            "/" + full.removeprefix("^"),
            django_regex(full, is_regex=is_regex),
            None,
        )
        self.generic_visit(node)
        return True

    def _route(self, node: ast.AST, path: str, methods: Iterable[str] | None) -> None:
        full = "".join(self.prefix) + path
        ms = frozenset(m.upper() for m in methods) if methods else None
        if ms is not None and "GET" in ms:
            ms = ms | {"HEAD"}  # frameworks answer HEAD with the GET handler
        label = full
        if ms:
            label = "/".join(sorted(ms - {"HEAD"} if "GET" in ms else ms)) + " " + full
        self._add(node, "route", label, route_regex(full), ms)

    def _url(self, node: ast.expr, parts: Sequence[str | None]) -> bool:
        if not parts or parts[0] is WILD or not parts[0].startswith(("http://", "https://")):
            return False
        matchers = url_matcher(parts)
        if matchers is None:
            return False
        host_re, path_re = matchers
        label = "".join("{…}" if p is WILD else p for p in parts)
        self._add(node, "url", label, path_re, None, host_re)
        return True

    def _parts(self, node: ast.expr, depth: int) -> list[str | None] | None:
        """``node`` as literal text and WILD fields, or None when it is not a string."""
        if depth > _MAX_DEPTH:
            return [WILD]
        if isinstance(node, ast.Constant):
            return [node.value] if isinstance(node.value, str) else None
        if isinstance(node, ast.JoinedStr):
            out: list[str | None] = []
            for value in node.values:
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    out.append(value.value)
                elif isinstance(value, ast.FormattedValue):
                    inner = None
                    if value.format_spec is None and value.conversion in (-1, 115):  # !s
                        inner = self._parts(value.value, depth + 1)
                    out.extend(inner if inner is not None else [WILD])
            return _merge(out)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self._parts(node.left, depth + 1)
            right = self._parts(node.right, depth + 1)
            if left is None and right is None:
                return None
            return _merge([*(left or [WILD]), *(right or [WILD])])
        name = None
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = node.attr  # self.BASE_URL, cls.BASE_URL, Settings.BASE_URL
        if name is not None:
            value = self.consts.get(name)
            return self._parts(value, depth + 1) if value is not None else [WILD]
        if (
            isinstance(node, ast.Call)
            and len(node.args) == 2
            and (_func_name(node.func) == "getenv" or _is_environ(node.func))
        ):
            # os.getenv("API", "http://...") / os.environ.get("API", "http://..."): the default
            return self._parts(node.args[1], depth + 1) or [WILD]
        return [WILD]

    def _add(
        self,
        node: ast.AST,
        kind: str,
        label: str,
        path_re: re.Pattern[str],
        methods: frozenset[str] | None,
        host_re: re.Pattern[str] | None = None,
    ) -> None:
        line = node.lineno - 1  # type: ignore[attr-defined]
        end_line = (node.end_lineno or node.lineno) - 1  # type: ignore[attr-defined]
        self.targets.append(
            Target(
                kind=kind,
                label=label,
                line=line,
                col=self._chars(line, node.col_offset),  # type: ignore[attr-defined]
                end_line=end_line,
                end_col=self._chars(end_line, node.end_col_offset or 0),  # type: ignore[attr-defined]
                path_re=path_re,
                methods=methods,
                host_re=host_re,
            )
        )

    def _chars(self, line: int, byte_col: int) -> int:
        # ast columns are UTF-8 byte offsets; editors want characters (then their own units)
        if 0 <= line < len(self.lines):
            return len(self.lines[line].encode()[:byte_col].decode("utf-8", "ignore"))
        return byte_col


def _merge(parts: list[str | None]) -> list[str | None]:
    out: list[str | None] = []
    for p in parts:
        if p is not WILD and out and out[-1] is not WILD:
            out[-1] = out[-1] + p  # type: ignore[operator]
        elif not (p is WILD and out and out[-1] is WILD):
            out.append(p)
    return out


def _assignment(stmt: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
        target = stmt.targets[0]
        if isinstance(target, ast.Name):
            return target.id, stmt.value
    if isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
        return stmt.target.id, stmt.value
    return None, None


def _router_prefix(value: ast.expr) -> str | None:
    """``Blueprint(..., url_prefix=)`` / ``APIRouter(prefix=)``: the prefix, else None."""
    if not isinstance(value, ast.Call):
        return None
    name = _func_name(value.func)
    if name == "Blueprint":
        return (_kw_str(value, "url_prefix") or "").rstrip("/")
    if name == "APIRouter":
        return (_kw_str(value, "prefix") or "").rstrip("/")
    return None


def _func_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def _is_environ(func: ast.expr) -> bool:
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "get"
        and _func_name(func.value) == "environ"
    )


def _kwarg(call: ast.Call, name: str) -> ast.expr | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw.value
    return None


def _kw_str(call: ast.Call, name: str) -> str | None:
    value = _kwarg(call, name)
    return _const_str(value) if value is not None else None


def _arg_str(call: ast.Call, index: int, keyword: str) -> str | None:
    if len(call.args) > index:
        return _const_str(call.args[index])
    return _kw_str(call, keyword)


def _const_str(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _str_list(node: ast.expr | None) -> list[str] | None:
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.List | ast.Tuple | ast.Set):
        out = [_const_str(e) for e in node.elts]
        if out and all(s is not None for s in out):
            return out  # type: ignore[return-value]
    return None
