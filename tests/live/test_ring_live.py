"""The ring-buffer reader against the kernel: many passes round a small ring, in order."""

from __future__ import annotations

import os
import socket

from httptap.capture.events import Dir, Kind, decode
from httptap.capture.loader import Program


def test_small_ring_read_in_batches_keeps_every_record_in_order() -> None:
    program = Program(ring_kib=64)  # ~700 small records: the run below wraps it ~30 times
    try:
        program.trace_pid(os.getpid())
        with socket.create_server(("127.0.0.1", 0)) as srv:
            client = socket.create_connection(srv.getsockname())
            conn, _ = srv.accept()
            client_fd = client.fileno()
            with client, conn:
                sent = []
                got = []
                for burst in range(100):
                    for i in range(100):
                        msg = b"GET /%d HTTP/1.1\r\n\r\n" % (burst * 100 + i)
                        client.sendall(msg)
                        sent.append(msg)
                        conn.recv(100)
                    while batch := program.read(77):
                        assert len(batch) <= 77
                        got.extend(decode(raw) for raw in batch)
        writes = [ev.data for ev in got if ev.kind is Kind.DATA and ev.direction is Dir.EGRESS
                  and ev.fd == client_fd]
        assert writes == sent
        reads = [ev.data for ev in got if ev.kind is Kind.DATA and ev.direction is Dir.INGRESS]
        assert b"".join(reads) == b"".join(sent)
        assert program.lost() == (0, 0)
    finally:
        program.close()
