"""gRPC test client: on 'go', one call of each kind to demo.Echo, then 'done'. argv: port"""

import sys

import grpc


def main():
    port = int(sys.argv[1])
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    grpc.channel_ready_future(channel).result(timeout=10)
    print("ready", flush=True)
    sys.stdin.readline()
    unary = channel.unary_unary("/demo.Echo/Unary")
    assert unary(b"hello") == b"echo:hello"
    try:
        unary(b"fail")
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.INVALID_ARGUMENT
    stream = channel.unary_stream("/demo.Echo/ServerStream")
    assert len(list(stream(b"50"))) == 50
    client = channel.stream_unary("/demo.Echo/ClientStream")
    assert client(iter([b"a", b"b", b"c", b"d", b"e"])) == b"count:5"
    bidi = channel.stream_stream("/demo.Echo/Bidi")
    assert list(bidi(iter([b"x", b"y", b"z"]))) == [b"re:x", b"re:y", b"re:z"]
    print("done", flush=True)
    sys.stdin.readline()


if __name__ == "__main__":
    main()
