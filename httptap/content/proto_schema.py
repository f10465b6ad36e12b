"""gRPC messages decoded by name from ``.proto`` files (``httptap --proto``).

``load_schemas`` compiles the files with the ``protoc`` bundled in grpcio-tools into a
descriptor set and loads it with the ``protobuf`` runtime; ``ProtoSchemas.decode`` turns one
message of a call into protobuf *text format* (``name: "widget"``, like ``protoc --decode``),
the same shape as the schema-less ``format_raw`` so the two read alike side by side.

Only the unprivileged front ends use this module: the helper never opens a path its caller
names (DESIGN.md), so schemas never reach it. Both packages are an optional extra
(``pip install 'httptap[proto]'``) and are imported only when ``load_schemas`` runs.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from httptap.model import GrpcCall

Direction = Literal["request", "response"]

#: What to install when the packages are missing (named in every such error).
INSTALL_HINT = "pip install 'httptap[proto]' (the protobuf and grpcio-tools packages)"

# Run protoc in a child: its errors go to the C++ stderr (fd 2), which only a child lets us
# capture without redirecting the file descriptors of this (possibly full-screen) process.
_PROTOC = "import sys; from grpc_tools import protoc; sys.exit(protoc.main(sys.argv[1:]))"
_PROTOC_TIMEOUT_S = 120.0


class ProtoSchemaError(Exception):
    """A ``.proto`` file that cannot be used: missing, not compiling, or no tools to compile."""


class ProtoSchemas:
    """Message types of the services in a compiled descriptor set, looked up by gRPC path."""

    def __init__(self, pool: Any, files: Sequence[str], services: Sequence[str]) -> None:
        self._pool = pool
        #: the .proto files compiled (as given, globs expanded)
        self.files = list(files)
        #: full names of the services they define (``demo.Inventory``), sorted
        self.services = sorted(services)
        self._classes: dict[tuple[str, str, str], Any] = {}

    def message_type(self, service: str, method: str, direction: Direction) -> str | None:
        """Full name of the input (request) or output (response) type, or None if unknown."""
        cls = self._class(service, method, direction)
        return None if cls is None else cls.DESCRIPTOR.full_name

    def decode(self, service: str, method: str, direction: Direction, data: bytes) -> str | None:
        """``data`` as text format of the method's input/output type.

        None when the service or method is unknown, or when ``data`` does not parse as that
        type (garbage, a prefix cut at capture, an undecompressed message): the caller then
        shows the raw decoding. Fields the schema does not know are printed by number.
        """
        cls = self._class(service, method, direction)
        if cls is None:
            return None
        from google.protobuf import message as _message
        from google.protobuf import text_format

        msg = cls()
        try:
            msg.ParseFromString(bytes(data))
            return text_format.MessageToString(
                msg, as_utf8=True, print_unknown_fields=True, descriptor_pool=self._pool
            ).rstrip("\n")
        except (_message.DecodeError, RecursionError, ValueError, TypeError):
            return None

    # -- lookups ------------------------------------------------------------------------

    def _class(self, service: str, method: str, direction: Direction) -> Any:
        key = (service, method, direction)
        if key in self._classes:
            return self._classes[key]
        cls = None
        try:
            svc = self._pool.FindServiceByName(service.lstrip("."))
        except KeyError:
            svc = None
        m = svc.methods_by_name.get(method) if svc is not None else None
        if m is not None:
            from google.protobuf import message_factory

            desc = m.input_type if direction == "request" else m.output_type
            cls = message_factory.GetMessageClass(desc)
        self._classes[key] = cls
        return cls


def message_decoder(
    schemas: ProtoSchemas | None, call: GrpcCall | None, direction: Direction
) -> Callable[[bytes], str | None] | None:
    """A decoder of ``call``'s messages in ``direction`` when ``schemas`` know its method,
    else None (the messages are shown raw)."""
    if schemas is None or call is None:
        return None
    service, method = call.service, call.method
    if schemas.message_type(service, method, direction) is None:
        return None
    return lambda data: schemas.decode(service, method, direction, data)


def load_schemas(paths: Sequence[str], include_dirs: Sequence[str] = ()) -> ProtoSchemas:
    """Compile the ``.proto`` files ``paths`` (globs allowed) into ``ProtoSchemas``.

    Imports resolve against ``include_dirs`` first (like protoc's ``-I``), then the directory
    each glob starts in (``protos`` for ``protos/**/*.proto``), then each file's own
    directory (shallowest first), then the well-known types bundled with grpcio-tools; so
    ``protos/shop.proto`` may ``import "common/money.proto"``. Raises
    ``ProtoSchemaError`` with protoc's own message when a file does not compile, and naming
    the pip extra when protobuf or grpcio-tools is not installed.
    """
    files, roots = _expand(paths)
    for name in ("google", "google.protobuf", "grpc_tools"):
        try:
            missing = importlib.util.find_spec(name) is None
        except (ImportError, ValueError):
            missing = True
        if missing:
            raise ProtoSchemaError(f"--proto needs {INSTALL_HINT}")
    from google.protobuf import descriptor_pb2, descriptor_pool

    includes: list[str] = []
    # Order matters: protoc names each file after the first directory holding it, and a
    # file known under two names is defined twice; roots first keep names root-relative.
    own = sorted({os.path.abspath(os.path.dirname(f) or ".") for f in files},
                 key=lambda d: (d.count(os.sep), d))
    for d in [*include_dirs, *roots, *own, _wkt_dir()]:
        d = os.path.abspath(os.path.expanduser(d))
        if d not in includes:
            includes.append(d)
    for d in include_dirs:
        if not os.path.isdir(os.path.expanduser(d)):
            raise ProtoSchemaError(f"--proto-path {d}: not a directory")
    with tempfile.TemporaryDirectory(prefix="httptap-proto-") as tmp:
        out = os.path.join(tmp, "set.pb")
        argv = [sys.executable, "-c", _PROTOC, "protoc", f"--descriptor_set_out={out}",
                "--include_imports", *(f"-I{d}" for d in includes),
                *(os.path.abspath(f) for f in files)]
        try:
            done = subprocess.run(argv, capture_output=True, text=True,
                                  timeout=_PROTOC_TIMEOUT_S, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ProtoSchemaError(f"could not run protoc: {exc}") from exc
        if done.returncode != 0 or not os.path.exists(out):
            text = (done.stderr or done.stdout).strip() or f"exit status {done.returncode}"
            raise ProtoSchemaError(f"protoc failed on {', '.join(files)}:\n{text}")
        with open(out, "rb") as fh:
            fds = descriptor_pb2.FileDescriptorSet.FromString(fh.read())
    # A private pool: the user's types must not clash with those of the process's own
    # generated modules in the default pool.
    pool = descriptor_pool.DescriptorPool()
    try:
        for fdp in fds.file:  # --include_imports writes dependencies first
            pool.Add(fdp)
    except (TypeError, ValueError) as exc:
        raise ProtoSchemaError(f"cannot load the compiled descriptors: {exc}") from exc
    services = [f"{p.package}.{s.name}" if p.package else s.name
                for p in fds.file for s in p.service]
    return ProtoSchemas(pool, files, services)


def _expand(paths: Sequence[str]) -> tuple[list[str], list[str]]:
    """(files, glob roots): globs expanded (``**`` too), in order, each file once.

    A glob's root is its directory part before the first wildcard. Errors name the pattern.
    """
    if not paths:
        raise ProtoSchemaError("no .proto file given")
    out: list[str] = []
    roots: list[str] = []
    for pattern in paths:
        pattern = os.path.expanduser(pattern)
        if any(c in pattern for c in "*?["):
            found = sorted(glob.glob(pattern, recursive=True))
            found = [f for f in found if os.path.isfile(f)]
            if not found:
                raise ProtoSchemaError(f"--proto {pattern}: no file matches")
            static = pattern[: min(pattern.find(c) for c in "*?[" if c in pattern)]
            roots.append(os.path.dirname(static) or ".")
        elif os.path.isfile(pattern):
            found = [pattern]
        else:
            raise ProtoSchemaError(f"--proto {pattern}: no such file")
        for f in found:
            if f not in out:
                out.append(f)
    return out, roots


def _wkt_dir() -> str:
    """grpcio-tools' copy of the well-known types (google/protobuf/*.proto)."""
    spec = importlib.util.find_spec("grpc_tools")
    assert spec is not None and spec.submodule_search_locations
    return os.path.join(next(iter(spec.submodule_search_locations)), "_proto")
