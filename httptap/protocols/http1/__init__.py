"""Passive HTTP/1.x parser (sans-IO): both directions of one TCP connection in, exchanges out.

Division of labour, and why:

* **Framing is done here** (``_bodies``, ``_framing``), with ``bytes.find`` and arithmetic
  (never a Python loop per byte): where a head ends, how long a body is, where each chunk
  starts. llhttp frames perfectly well but httptools exposes neither offsets nor chunk sizes,
  and a passive parser needs both: to skip a gap of uncopied bytes inside a body and stay in
  sync, to hand over the bytes after a 101 or a CONNECT, and to frame a response by its
  *request's* method (a response to HEAD carries a Content-Length but no body; llhttp's
  response parser cannot be told the method, and httptools ignores what
  ``on_headers_complete`` returns).
* **Heads are validated by httptools (llhttp)** (``_llhttp``): one C call per head. A head
  llhttp rejects gets a second opinion from h11 (``_h11``: obs-fold, bare LF, unusual
  methods), so the observer accepts what the peers accepted. Framing follows RFC 9112
  section 6.3, i.e. h11's semantics; h11 is also the reference of the differential tests.

Modules: ``_connection`` (the parser: byte loop, heads, pairing, switches), ``_exchanges``
(message ends, loss, failure), ``_bodies`` (body states), ``_framing`` (framing rules),
``_heads`` (head fields), ``_llhttp`` (the fast path), ``_h11`` (the reference path),
``_side`` (one direction's state).
"""

from httptap.protocols.http1._connection import Http1Parser
from httptap.protocols.http1._framing import MAX_HEAD

__all__ = ["MAX_HEAD", "Http1Parser"]
