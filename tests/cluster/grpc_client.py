"""A Python client of minidynamo.v1.KeyValue for the tests, with grpcio (python3-grpcio).

The message classes are generated from proto/minidynamo/v1/kv.proto with protoc at import, into a
scratch directory; the service's methods are called through grpcio's generic multi-callables
(Debian's grpc-tools stub generator is older than its grpcio), under the paths gRPC gives them.
"""
import atexit
import importlib
import os
import shutil
import subprocess
import sys
import tempfile

import grpc

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PROTO_ROOT = os.path.join(REPO, "proto")


def _generate():
    out = tempfile.mkdtemp(prefix="minidynamo-grpc-")
    atexit.register(shutil.rmtree, out, True)
    subprocess.run(["protoc", f"--proto_path={PROTO_ROOT}", f"--python_out={out}", "minidynamo/v1/kv.proto"],
                   check=True)
    sys.path.insert(0, out)
    return importlib.import_module("minidynamo.v1.kv_pb2")


kv = _generate()
SERVICE = "/minidynamo.v1.KeyValue/"


class KeyValue:
    """One channel to a node's gRPC port; each method takes the request's fields as keywords."""

    def __init__(self, port, host="127.0.0.1"):
        self.channel = grpc.insecure_channel(f"{host}:{port}")
        unary = {"Get": kv.GetResponse, "Put": kv.PutResponse, "Delete": kv.DeleteResponse,
                 "Health": kv.HealthResponse}
        self.calls = {name: self.channel.unary_unary(SERVICE + name, request_serializer=lambda m: m.SerializeToString(),
                                                     response_deserializer=response.FromString)
                      for name, response in unary.items()}
        self.list_call = self.channel.unary_stream(SERVICE + "List", request_serializer=lambda m: m.SerializeToString(),
                                                   response_deserializer=kv.ListResponse.FromString)

    def close(self):
        self.channel.close()

    def get(self, key, timeout=10, **fields):
        return self.calls["Get"](kv.GetRequest(key=key, **fields), timeout=timeout)

    def put(self, key, value, timeout=10, **fields):
        return self.calls["Put"](kv.PutRequest(key=key, value=value, **fields), timeout=timeout)

    def delete(self, key, timeout=10, **fields):
        return self.calls["Delete"](kv.DeleteRequest(key=key, **fields), timeout=timeout)

    def health(self, timeout=10):
        return self.calls["Health"](kv.HealthRequest(), timeout=timeout)

    def list(self, timeout=30, **fields):
        """The stream of pages (ListResponse) of a listing."""
        return self.list_call(kv.ListRequest(**fields), timeout=timeout)

    def call_with_metadata(self, name, request, timeout=10):
        """(response, call) of a unary method, so a test can read the trailing metadata."""
        return self.calls[name].with_call(request, timeout=timeout)
