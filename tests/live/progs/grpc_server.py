"""gRPC test server (grpcio, insecure), service demo.Echo with raw-bytes methods.

argv: port.  Unary echoes (b"fail" aborts INVALID_ARGUMENT "bad input"); ServerStream sends
N messages (N = the request as ASCII digits); ClientStream answers the count; Bidi echoes.
"""

import sys
from concurrent import futures

import grpc


def unary(request, context):
    if request == b"fail":
        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "bad input")
    return b"echo:" + request


def server_stream(request, context):
    for i in range(int(request)):
        yield b"msg-%d" % i


def client_stream(iterator, context):
    return b"count:%d" % sum(1 for _ in iterator)


def bidi(iterator, context):
    for req in iterator:
        yield b"re:" + req


def main():
    port = int(sys.argv[1])
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(bidi),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("demo.Echo", handlers),))
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    print("ready", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
