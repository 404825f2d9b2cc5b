// The gRPC API's shapes (proto/minidynamo/v1/kv.proto): its requests to core requests, core
// responses to its messages and status codes. Pure translation, no sockets; net/grpc_server.h
// carries them.
#pragma once

#include <grpcpp/support/status.h>

#include "core/messages.h"
#include "core/status.h"
#include "minidynamo/v1/kv.pb.h"
#include "net/http_api.h"

namespace md::net {

namespace v1 = ::minidynamo::v1;

inline constexpr uint32_t kGrpcListLimitDefault = 100;  // keys per List page when the request says 0, as HTTP

// Requests, checked against the node's limits as HTTP checks them (an empty key, a key or value
// over its limit, a cursor no listing handed out: invalid_argument naming the field). N, R and W
// (0: unset) are left to the core, which checks them for every protocol.
Result<core::ClientRequest> client_request(const v1::GetRequest& request, const ApiLimits& limits);
Result<core::ClientRequest> client_request(const v1::PutRequest& request, const ApiLimits& limits);
Result<core::ClientRequest> client_request(const v1::DeleteRequest& request, const ApiLimits& limits);
// The first page of a listing; the following pages are list_page(first, cursor).
Result<core::ClientRequest> client_request(const v1::ListRequest& request, const ApiLimits& limits);

// The status code and message of an answer (ok for Outcome::ok).
grpc::Status status_of(const core::ClientResponse& response);

// An ok answer as the call's response message.
void render(const core::ClientResponse& response, v1::GetResponse* out);
void render(const core::ClientResponse& response, v1::PutResponse* out);
void render(const core::ClientResponse& response, v1::DeleteResponse* out);
void render(const core::ClientResponse& response, v1::ListResponse* out);

}  // namespace md::net
