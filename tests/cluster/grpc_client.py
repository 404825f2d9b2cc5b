"""A Python client of minidynamo.v1.KeyValue for the tests: grpcio (python3-grpcio) and the stubs
grpc_tools (python3-grpc-tools) generates from proto/minidynamo/v1/kv.proto, at import, into a
scratch directory that is then on sys.path (as docs/api.md, "gRPC", tells users to).
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
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"--proto_path={PROTO_ROOT}", f"--python_out={out}",
                    f"--grpc_python_out={out}", "minidynamo/v1/kv.proto"], check=True)
    sys.path.insert(0, out)
    return importlib.import_module("minidynamo.v1.kv_pb2"), importlib.import_module("minidynamo.v1.kv_pb2_grpc")


kv, kv_grpc = _generate()


class KeyValue:
    """One channel to a node's gRPC port; each method takes the request's fields as keywords."""

    def __init__(self, port, host="127.0.0.1", tls_ca=None, authorization=None):
        """With tls_ca (a CA file), over TLS, verifying the node's certificate against it; with
        authorization (an Authorization header's value), sent as every call's metadata."""
        self.metadata = [("authorization", authorization)] if authorization else None
        if tls_ca:
            with open(tls_ca, "rb") as f:
                credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
            self.channel = grpc.secure_channel(f"{host}:{port}", credentials)
        else:
            self.channel = grpc.insecure_channel(f"{host}:{port}")
        self.stub = kv_grpc.KeyValueStub(self.channel)
        self.calls = {name: getattr(self.stub, name) for name in ("Get", "Put", "Delete", "Health")}
        self.list_call = self.stub.List

    def close(self):
        self.channel.close()

    def get(self, key, timeout=10, **fields):
        return self.calls["Get"](kv.GetRequest(key=key, **fields), timeout=timeout, metadata=self.metadata)

    def put(self, key, value, timeout=10, **fields):
        return self.calls["Put"](kv.PutRequest(key=key, value=value, **fields), timeout=timeout,
                                 metadata=self.metadata)

    def delete(self, key, timeout=10, **fields):
        return self.calls["Delete"](kv.DeleteRequest(key=key, **fields), timeout=timeout, metadata=self.metadata)

    def health(self, timeout=10):
        return self.calls["Health"](kv.HealthRequest(), timeout=timeout, metadata=self.metadata)

    def list(self, timeout=30, **fields):
        """The stream of pages (ListResponse) of a listing."""
        return self.list_call(kv.ListRequest(**fields), timeout=timeout, metadata=self.metadata)

    def call_with_metadata(self, name, request, timeout=10):
        """(response, call) of a unary method, so a test can read the trailing metadata."""
        return self.calls[name].with_call(request, timeout=timeout, metadata=self.metadata)
