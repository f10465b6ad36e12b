"""Test client: on 'go', one request per way of moving socket bytes, each on its own
connection (send/recv, write/read, sendmsg/recvmsg, writev/readv, sendmmsg/recvmmsg,
sendfile, and fds made by dup, dup2, dup3 and fcntl(F_DUPFD)); the last connection is closed
with close_range() and its fd reused by a file that gets HTTP-looking bytes, which must not
show; prints 'done'.

argv: port. Request i asks for /size/(100 + i) and carries ?via=NAME.
"""

import ctypes
import fcntl
import os
import socket
import sys
import tempfile

_libc = ctypes.CDLL(None, use_errno=True)


class _Iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [("name", ctypes.c_void_p), ("namelen", ctypes.c_uint32),
                ("iov", ctypes.POINTER(_Iovec)), ("iovlen", ctypes.c_size_t),
                ("control", ctypes.c_void_p), ("controllen", ctypes.c_size_t),
                ("flags", ctypes.c_int)]


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("hdr", _Msghdr), ("len", ctypes.c_uint)]


def _mmsg(buf):
    iov = _Iovec(ctypes.addressof(buf), len(buf))
    msg = _Mmsghdr()
    msg.hdr.iov = ctypes.pointer(iov)
    msg.hdr.iovlen = 1
    return msg, iov


def sendmmsg(fd, data):
    buf = ctypes.create_string_buffer(data, len(data))
    msg, _iov = _mmsg(buf)
    if _libc.sendmmsg(fd, ctypes.byref(msg), 1, 0) != 1:
        raise OSError(ctypes.get_errno(), "sendmmsg")
    assert msg.len == len(data)


def recvmmsg(fd, size):
    buf = ctypes.create_string_buffer(size)
    msg, _iov = _mmsg(buf)
    if _libc.recvmmsg(fd, ctypes.byref(msg), 1, 0, None) != 1:
        raise OSError(ctypes.get_errno(), "recvmmsg")
    return buf.raw[: msg.len]


def readv(fd, size):
    a, b = bytearray(size // 2), bytearray(size - size // 2)
    n = os.readv(fd, [a, b])
    return bytes(a + b)[:n]


def read_response(recv, body_size):
    data = b""
    while b"\r\n\r\n" not in data or len(data.split(b"\r\n\r\n", 1)[1]) < body_size:
        chunk = recv(65536)
        if not chunk:
            raise EOFError("server closed")
        data += chunk
    return data


def request(port, i, via):
    size = 100 + i
    head = f"GET /size/{size}?via={via} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    sock = socket.create_connection(("127.0.0.1", port))
    fd = sock.fileno()
    extra = []
    if via == "send":
        sock.send(head)
        read_response(sock.recv, size)
    elif via == "write":
        os.write(fd, head)
        read_response(lambda n: os.read(fd, n), size)
    elif via == "sendmsg":
        sock.sendmsg([head[:10], head[10:]])
        read_response(lambda n: sock.recvmsg(n)[0], size)
    elif via == "writev":
        os.writev(fd, [head[:7], head[7:]])
        read_response(lambda n: readv(fd, n), size)
    elif via == "sendmmsg":
        sendmmsg(fd, head)
        read_response(lambda n: recvmmsg(fd, n), size)
    elif via == "sendfile":
        body = b"s" * size
        post = f"POST /echo?via={via} HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n"
        with tempfile.TemporaryFile() as f:
            f.write(body)
            f.flush()
            sock.send(post.encode())
            assert os.sendfile(fd, f.fileno(), 0, size) == size
        read_response(sock.recv, size)
    elif via == "close_range":
        sock.send(head)
        read_response(sock.recv, size)
    else:  # a duplicate of the socket's fd carries the whole exchange
        if via == "dup":
            dup = os.dup(fd)
        elif via == "dup2":
            dup = os.dup2(fd, 200)
        elif via == "dup3":
            dup = os.dup2(fd, 201, inheritable=False)  # dup3(O_CLOEXEC)
        else:
            dup = fcntl.fcntl(fd, fcntl.F_DUPFD, 300)
        extra.append(dup)
        os.write(dup, head)
        read_response(lambda n: os.read(dup, n), size)
    for d in extra:
        os.close(d)
    if via == "close_range":
        os.closerange(fd, fd + 1)  # glibc's close_range(fd, fd, 0)
        sock.detach()
        with tempfile.TemporaryFile() as f:
            assert f.fileno() == fd, "the file must take the socket's fd"
            f.write(b"GET /bogus HTTP/1.1\r\nHost: x\r\n\r\n")
            f.flush()
    else:
        sock.close()


VIAS = ["send", "write", "sendmsg", "writev", "sendmmsg", "sendfile", "dup", "dup2", "dup3",
        "fcntl", "close_range"]


def main():
    port = int(sys.argv[1])
    print("ready", flush=True)
    sys.stdin.readline()
    for i, via in enumerate(VIAS):
        request(port, i, via)
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
