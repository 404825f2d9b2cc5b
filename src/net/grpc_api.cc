#include "net/grpc_api.h"

#include <string>

#include "net/json_bytes.h"
#include "net/list_cursor.h"

namespace md::net {
namespace {

Status check_key(const std::string& key, const ApiLimits& limits) {
  if (key.empty()) return Status::invalid_argument("the key must not be empty");
  if (key.size() > limits.key_bytes_max) {
    return Status::invalid_argument("the key is " + std::to_string(key.size()) + " bytes; the limit is " +
                                    std::to_string(limits.key_bytes_max));
  }
  return Status::ok();
}

// A write's common fields: key, context, N, W and the quorum's kind. N, R and W of 0 are unset
// (proto3's default): the node's own.
template <class Request>
Result<core::ClientRequest> write_request(core::Op op, const Request& request, const ApiLimits& limits) {
  if (auto s = check_key(request.key(), limits); !s.is_ok()) return s;
  core::ClientRequest r;
  r.op = op;
  r.key = request.key();
  if (!request.context().empty()) r.context_token = request.context();
  if (request.n() != 0) r.n = request.n();
  if (request.w() != 0) r.w = request.w();
  r.sloppy_quorum = !request.strict_quorum();
  return r;
}

void render_clock(const core::VersionVector& clock, v1::Sibling* out) {
  auto& map = *out->mutable_vector_clock();
  for (const auto& [node, counter] : clock.entries()) map[node] = counter;
}

}  // namespace

Result<core::ClientRequest> client_request(const v1::GetRequest& request, const ApiLimits& limits) {
  if (auto s = check_key(request.key(), limits); !s.is_ok()) return s;
  core::ClientRequest r;
  r.op = core::Op::get;
  r.key = request.key();
  if (request.n() != 0) r.n = request.n();
  if (request.r() != 0) r.r = request.r();
  return r;
}

Result<core::ClientRequest> client_request(const v1::PutRequest& request, const ApiLimits& limits) {
  auto r = write_request(core::Op::put, request, limits);
  if (!r.is_ok()) return r;
  r->value = bytes_to_json(request.value());
  if (r->value.size() > limits.value_bytes_max) {
    return Status::invalid_argument("the value is " + std::to_string(r->value.size()) +
                                    " bytes as a JSON string; the limit is " + std::to_string(limits.value_bytes_max));
  }
  return r;
}

Result<core::ClientRequest> client_request(const v1::DeleteRequest& request, const ApiLimits& limits) {
  return write_request(core::Op::del, request, limits);
}

Result<core::ClientRequest> client_request(const v1::ListRequest& request, const ApiLimits& limits) {
  if (request.prefix().size() > limits.key_bytes_max) {
    return Status::invalid_argument("the prefix is " + std::to_string(request.prefix().size()) +
                                    " bytes; keys are at most " + std::to_string(limits.key_bytes_max));
  }
  core::ClientRequest r;
  r.op = core::Op::list;
  r.key = request.prefix();
  r.limit = request.limit() == 0 ? kGrpcListLimitDefault : request.limit();  // the core checks the range
  if (request.n() != 0) r.n = request.n();
  if (!request.cursor().empty()) {
    auto key = decode_list_cursor(request.cursor());
    if (!key.is_ok()) return key.status();
    r.cursor = std::move(key).value();
  }
  return r;
}

grpc::Status status_of(const core::ClientResponse& response) {
  switch (response.outcome) {
    case core::Outcome::ok: return grpc::Status::OK;
    case core::Outcome::not_found: return {grpc::StatusCode::NOT_FOUND, "not found"};
    case core::Outcome::bad_request: return {grpc::StatusCode::INVALID_ARGUMENT, response.message};
    case core::Outcome::too_many_siblings: return {grpc::StatusCode::FAILED_PRECONDITION, response.message};
    case core::Outcome::unavailable:
      if (response.required == 0) return {grpc::StatusCode::UNAVAILABLE, response.message};
      return {grpc::StatusCode::UNAVAILABLE, response.message + " (required " + std::to_string(response.required) +
                                                 ", acknowledged " + std::to_string(response.acknowledged) + ")"};
    case core::Outcome::internal_error: return {grpc::StatusCode::INTERNAL, response.message};
    case core::Outcome::unauthenticated: return {grpc::StatusCode::UNAUTHENTICATED, response.message};
    case core::Outcome::forbidden: return {grpc::StatusCode::PERMISSION_DENIED, response.message};
    case core::Outcome::rate_limited: return {grpc::StatusCode::RESOURCE_EXHAUSTED, response.message};
  }
  return {grpc::StatusCode::INTERNAL, "an outcome this front end does not know"};
}

void render(const core::ClientResponse& response, v1::GetResponse* out) {
  for (const auto& s : response.siblings) {
    auto* sibling = out->add_siblings();
    sibling->set_value(json_to_bytes(s.value));
    render_clock(s.clock(), sibling);
  }
  out->set_context(response.context_token);
}

void render(const core::ClientResponse& response, v1::PutResponse* out) {
  out->set_replicas_written(response.acknowledged);
  out->set_context(response.context_token);
}

void render(const core::ClientResponse& response, v1::DeleteResponse* out) {
  out->set_replicas_written(response.acknowledged);
  out->set_context(response.context_token);
}

void render(const core::ClientResponse& response, v1::ListResponse* out) {
  out->clear_keys();
  for (const auto& key : response.keys) out->add_keys(key);
  out->set_next_cursor(response.next_cursor ? encode_list_cursor(*response.next_cursor) : std::string());
}

}  // namespace md::net
