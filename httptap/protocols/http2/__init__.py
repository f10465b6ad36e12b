"""Sans-IO HTTP/2 parser: both directions of one connection, one Exchange per stream.

Modules: ``_connection`` (the parser and its public API), ``_reader`` (frames and
resynchronisation), ``_frames`` (wire constants from hyperframe, frame-header checks),
``_headers`` (header blocks), ``_hpack`` (the tolerant HPACK decoder), ``_bodies`` (DATA,
gRPC), ``_streams`` (stream lifecycle), ``_side`` (one direction's state).
"""

from httptap.protocols.http2._connection import Http2Parser
from httptap.protocols.http2._frames import PREFACE, error_name
from httptap.protocols.http2._hpack import MAX_TABLE_SIZE, DecodedBlock, TolerantDecoder

__all__ = [
    "MAX_TABLE_SIZE",
    "PREFACE",
    "DecodedBlock",
    "Http2Parser",
    "TolerantDecoder",
    "error_name",
]
