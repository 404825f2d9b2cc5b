#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include "net/grpc_server.h"

#include <grpc/grpc_security.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <iterator>
#include <mutex>

#include "minidynamo/v1/kv.grpc.pb.h"
#include "net/grpc_api.h"
#include "net/mailbox.h"

namespace md::net {
namespace {

namespace asio = boost::asio;

// How a call that gRPC cancelled ends: the client's deadline passed, or it (or a shutdown) cancelled.
grpc::Status cancelled_status(const grpc::CallbackServerContext& context) {
  if (context.deadline() <= std::chrono::system_clock::now()) {
    return {grpc::StatusCode::DEADLINE_EXCEEDED, "the client's deadline passed before the node answered"};
  }
  return grpc::Status::CANCELLED;
}

// Who calls: the client's IP address, from gRPC's peer ("ipv4:127.0.0.1:5555", "ipv6:[::1]:5555",
// the brackets perhaps percent-encoded), and the credentials in its `authorization` metadata.
Caller caller_of(const grpc::CallbackServerContext& context) {
  std::string address = context.peer();
  address = address.substr(address.find(':') + 1);  // the scheme
  address = address.substr(0, address.rfind(':'));   // the port
  for (auto [encoded, bracket] : {std::pair{"%5B", "["}, std::pair{"%5D", "]"}}) {
    if (auto at = address.find(encoded); at != std::string::npos) address.replace(at, 3, bracket);
  }
  if (address.size() > 2 && address.front() == '[' && address.back() == ']') address = address.substr(1, address.size() - 2);
  std::string_view authorization;
  const auto& metadata = context.client_metadata();
  if (auto it = metadata.find("authorization"); it != metadata.end()) {
    authorization = std::string_view(it->second.data(), it->second.size());
  }
  return caller_with_authorization(Protocol::grpc, std::move(address), authorization);
}

// A unary call, finished exactly once: claim() says who does it. gRPC owns the request and response
// messages until OnDone, so only the claimant writes the response; the reactor itself is shared
// with the work posted for it and lives until both are done with it.
class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  static std::shared_ptr<UnaryCall> start(grpc::CallbackServerContext* context, std::atomic<uint32_t>& calls) {
    auto call = std::make_shared<UnaryCall>(context, calls);
    call->self_ = call;
    return call;
  }
  UnaryCall(grpc::CallbackServerContext* context, std::atomic<uint32_t>& calls) : context_(context), calls_(calls) {
    ++calls_;
  }

  // True for the first caller only, which must then finish the call.
  bool claim() { return !finished_.exchange(true); }
  bool finished() const { return finished_.load(); }
  grpc::CallbackServerContext& context() { return *context_; }

  void OnCancel() override {
    if (claim()) Finish(cancelled_status(*context_));
  }
  void OnDone() override {
    --calls_;
    auto last = std::move(self_);
  }

 private:
  grpc::CallbackServerContext* context_;  // gRPC's, valid until OnDone
  std::atomic<uint32_t>& calls_;          // the server's count of calls in flight
  std::atomic<bool> finished_{false};
  std::shared_ptr<UnaryCall> self_;  // gRPC's reference, dropped at OnDone
};

// A List stream: one page at a time, each asked of the core on the io thread and then written.
// Exactly one of these is outstanding at any moment: the core's answer (state kCore) or a write
// (kWriting). A cancellation finishes at once while the core is working, and through the failed
// write's OnWriteDone otherwise; the atomic state decides who finishes.
class ListCall final : public grpc::ServerWriteReactor<v1::ListResponse> {
 public:
  enum State : uint8_t { kCore, kWriting, kFinished };
  static std::shared_ptr<ListCall> start(grpc::CallbackServerContext* context, std::atomic<uint32_t>& calls,
                                         Mailbox& mailbox, const SubmitFn& submit, core::ClientRequest first) {
    auto call = std::make_shared<ListCall>(context, calls, mailbox, submit, caller_of(*context), std::move(first));
    call->self_ = call;
    return call;
  }
  ListCall(grpc::CallbackServerContext* context, std::atomic<uint32_t>& calls, Mailbox& mailbox,
           const SubmitFn& submit, Caller caller, core::ClientRequest first)
      : context_(context),
        calls_(calls),
        mailbox_(mailbox),
        submit_(submit),
        caller_(std::move(caller)),
        request_(std::move(first)) {
    ++calls_;
  }

  // Asks the core for the page at request_.cursor (posted to the io thread).
  void next_page() {
    mailbox_.post([call = self_] {
      if (call->state_.load() == kFinished) return;  // cancelled while queued
      call->submit_(call->caller_, call->request_, [call](core::ClientResponse answer) { call->on_page(std::move(answer)); });
    });
  }

  // Ends a stream that never reached the core (its request was refused).
  void refuse(grpc::Status status) { finish_from(kCore, std::move(status)); }

  void OnWriteDone(bool ok) override {
    if (!ok || cancelled_.load() || !request_.cursor) {  // broken, cancelled, or that was the last page
      state_.store(kFinished);
      return Finish(!ok || cancelled_.load() ? cancelled_status(*context_) : grpc::Status::OK);
    }
    state_.store(kCore);
    if (cancelled_.load() && finish_from(kCore, cancelled_status(*context_))) return;
    next_page();
  }
  void OnCancel() override {
    cancelled_.store(true);
    finish_from(kCore, cancelled_status(*context_));  // a write in flight fails and finishes instead
  }
  void OnDone() override {
    --calls_;
    auto last = std::move(self_);
  }

 private:
  bool finish_from(State from, grpc::Status status) {
    State expected = from;
    if (!state_.compare_exchange_strong(expected, kFinished)) return false;
    Finish(std::move(status));
    return true;
  }
  void on_page(core::ClientResponse answer) {
    if (answer.outcome != core::Outcome::ok) {
      finish_from(kCore, status_of(answer));
      return;
    }
    State expected = kCore;
    if (!state_.compare_exchange_strong(expected, kWriting)) return;  // finished meanwhile: drop the page
    render(answer, &page_);
    request_.cursor = std::move(answer.next_cursor);  // nullopt: this page is the last
    StartWrite(&page_);
  }

  grpc::CallbackServerContext* context_;
  std::atomic<uint32_t>& calls_;
  Mailbox& mailbox_;  // the io thread's
  const SubmitFn& submit_;
  const Caller caller_;
  core::ClientRequest request_;  // the next page's
  v1::ListResponse page_;        // the page being written
  std::atomic<State> state_{kCore};
  std::atomic<bool> cancelled_{false};
  std::shared_ptr<ListCall> self_;
};

}  // namespace

class GrpcServer::Service final : public v1::KeyValue::CallbackService {
 public:
  Service(asio::io_context& io, GrpcServerOptions options, SubmitFn submit, HealthFn health, RefusedFn refused)
      : mailbox_(Mailbox::of(io)), options_(std::move(options)), submit_(std::move(submit)), health_(std::move(health)),
        refused_(std::move(refused)) {}

  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context, const v1::GetRequest* request,
                                v1::GetResponse* response) override {
    return unary(context, core::Op::get, client_request(*request, options_.limits), response);
  }
  grpc::ServerUnaryReactor* Put(grpc::CallbackServerContext* context, const v1::PutRequest* request,
                                v1::PutResponse* response) override {
    return unary(context, core::Op::put, client_request(*request, options_.limits), response);
  }
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context, const v1::DeleteRequest* request,
                                   v1::DeleteResponse* response) override {
    return unary(context, core::Op::del, client_request(*request, options_.limits), response);
  }

  grpc::ServerWriteReactor<v1::ListResponse>* List(grpc::CallbackServerContext* context,
                                                   const v1::ListRequest* request) override {
    auto first = client_request(*request, options_.limits);
    if (!first.is_ok()) {
      refuse(core::Op::list);
      auto call = ListCall::start(context, calls_, mailbox_, submit_, core::ClientRequest{});
      call->refuse({grpc::StatusCode::INVALID_ARGUMENT, first.status().message()});
      return call.get();
    }
    auto call = ListCall::start(context, calls_, mailbox_, submit_, std::move(first).value());
    call->next_page();
    return call.get();
  }

  grpc::ServerUnaryReactor* Health(grpc::CallbackServerContext* context, const v1::HealthRequest*,
                                   v1::HealthResponse* response) override {
    auto call = UnaryCall::start(context, calls_);
    mailbox_.post([this, call, response] {
      if (!call->claim()) return;
      GrpcHealth health = health_();
      response->set_ready(health.ready);
      response->set_node_id(health.node_id);
      call->Finish(grpc::Status::OK);
    });
    return call.get();
  }

 
  // Calls not yet done with (between their handler and OnDone).
  uint32_t calls_in_flight() const { return calls_.load(); }

 private:
  void refuse(core::Op op) {
    mailbox_.post([this, op] { refused_(op); });
  }

  // Get, Put and Delete: the request goes to the core on the io thread, its answer finishes the call.
  template <class Response>
  grpc::ServerUnaryReactor* unary(grpc::CallbackServerContext* context, core::Op op,
                                  Result<core::ClientRequest> request, Response* response) {
    auto call = UnaryCall::start(context, calls_);
    if (!request.is_ok()) {
      refuse(op);
      call->claim();
      call->Finish({grpc::StatusCode::INVALID_ARGUMENT, request.status().message()});
      return call.get();
    }
    mailbox_.post([this, call, response, caller = caller_of(*context), r = std::move(request).value()]() mutable {
      if (call->finished()) return;  // cancelled while queued: the core need not work on it
      submit_(caller, std::move(r), [call, response](core::ClientResponse answer) {
        if (!call->claim()) return;  // the client's deadline or a cancel finished it: the answer is dropped
        if (answer.outcome == core::Outcome::ok) render(answer, response);
        if (answer.outcome == core::Outcome::unavailable && answer.required > 0) {
          call->context().AddTrailingMetadata("md-required", std::to_string(answer.required));
          call->context().AddTrailingMetadata("md-acknowledged", std::to_string(answer.acknowledged));
        }
        call->Finish(status_of(answer));
      });
    });
    return call.get();
  }

  Mailbox& mailbox_;  // the io thread's
  GrpcServerOptions options_;
  SubmitFn submit_;
  HealthFn health_;
  RefusedFn refused_;
  std::atomic<uint32_t> calls_{0};
};

// gRPC's TLS whose certificate can be replaced while it serves (SIGHUP): gRPC asks fetch() at each
// new connection's handshake and takes the files read last, if they are newer than the ones it
// has; open connections keep theirs. Built on gRPC's C certificate-config fetcher, the one way
// Debian's gRPC 1.51 reloads a server certificate on demand.
class GrpcServer::ReloadableTls final : public grpc::ServerCredentials {
 public:
  ~ReloadableTls() override {
    if (credentials_ != nullptr) grpc_server_credentials_release(credentials_);
    if (pending_ != nullptr) grpc_ssl_server_certificate_config_destroy(pending_);
  }
  // Reads `files`; the errors name the file that could not be read.
  static Result<std::shared_ptr<ReloadableTls>> create(const TlsFiles& files) {
    auto tls = std::make_shared<ReloadableTls>();
    if (auto s = tls->reload(files); !s.is_ok()) return s;
    // gRPC fetches the first certificate config here, from pending_.
    tls->credentials_ = grpc_ssl_server_credentials_create_with_options(
        grpc_ssl_server_credentials_create_options_using_config_fetcher(GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE,
                                                                         &ReloadableTls::fetch, tls.get()));
    if (tls->credentials_ == nullptr) return Status::invalid_argument("gRPC refused the TLS files");
    return tls;
  }
  // Reads `files` for the next handshake.
  Status reload(const TlsFiles& files) {
    std::string key, certificate, ca;
    for (auto [path, into] : {std::pair{&files.key, &key}, std::pair{&files.certificate, &certificate},
                              std::pair{&files.ca, &ca}}) {
      std::ifstream in(*path, std::ios::binary);
      if (!in) return Status::invalid_argument("gRPC: cannot read the TLS file " + *path);
      into->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const grpc_ssl_pem_key_cert_pair pair{key.c_str(), certificate.c_str()};
    grpc_ssl_server_certificate_config* config = grpc_ssl_server_certificate_config_create(ca.c_str(), &pair, 1);
    std::lock_guard lock(mu_);
    if (pending_ != nullptr) grpc_ssl_server_certificate_config_destroy(pending_);
    pending_ = config;
    return Status::ok();
  }
  void SetAuthMetadataProcessor(const std::shared_ptr<grpc::AuthMetadataProcessor>&) override {}  // none is used

 private:
  int AddPortToServer(const std::string& address, grpc_server* server) override {
    return grpc_server_add_http2_port(server, address.c_str(), credentials_);
  }
  static grpc_ssl_certificate_config_reload_status fetch(void* self, grpc_ssl_server_certificate_config** config) {
    auto* tls = static_cast<ReloadableTls*>(self);
    std::lock_guard lock(tls->mu_);
    if (tls->pending_ == nullptr) return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_UNCHANGED;
    *config = std::exchange(tls->pending_, nullptr);  // gRPC owns it from here
    return GRPC_SSL_CERTIFICATE_CONFIG_RELOAD_NEW;
  }

  std::mutex mu_;  // gRPC's handshakes (its threads) against reload() (the node's)
  grpc_ssl_server_certificate_config* pending_ = nullptr;
  grpc_server_credentials* credentials_ = nullptr;
};

GrpcServer::GrpcServer(asio::io_context& io, GrpcServerOptions options, SubmitFn submit, HealthFn health,
                       RefusedFn refused)
    : message_bytes_max_(options.message_bytes_max),
      tls_(options.tls),
      service_(std::make_unique<Service>(io, std::move(options), std::move(submit), std::move(health),
                                         std::move(refused))) {}

GrpcServer::~GrpcServer() {
  if (stopper_.joinable()) stopper_.join();
  if (server_ && !stopped_) server_->Shutdown(std::chrono::system_clock::now());
}

Status GrpcServer::listen(const std::string& ip, uint16_t port) {
  const std::string address = (ip.find(':') == std::string::npos ? ip : "[" + ip + "]") + ":" + std::to_string(port);
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  if (tls_) {  // gRPC's own TLS (1.2 or newer): the node's certificate, no client certificate asked
    auto reloadable = ReloadableTls::create(*tls_);
    if (!reloadable.is_ok()) return reloadable.status();
    reloadable_tls_ = std::move(reloadable).value();
    credentials = reloadable_tls_;
  }
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(address, credentials, &bound_port);
  builder.RegisterService(service_.get());
  builder.SetMaxReceiveMessageSize(static_cast<int>(message_bytes_max_));
  server_ = builder.BuildAndStart();
  if (!server_ || bound_port == 0) {
    server_.reset();
    return Status::io_error("cannot serve gRPC on " + address + " (is the port taken? --grpc-port 0 turns gRPC off)");
  }
  port_ = static_cast<uint16_t>(bound_port);
  return Status::ok();
}

Status GrpcServer::reload_tls() {
  if (!reloadable_tls_) return Status::ok();
  return reloadable_tls_->reload(*tls_);
}

void GrpcServer::begin_shutdown(std::chrono::steady_clock::time_point deadline) {
  if (!server_ || stopper_.joinable()) {
    stopped_ = !server_ || stopped_;
    return;
  }
  // The calls in flight are waited for here, not by gRPC's Shutdown: that would also wait, up to
  // its deadline, for every client to hang up its idle connection. New calls meanwhile reach the
  // node, which refuses them as it stops (UNAVAILABLE). Then the rest are cancelled at once.
  stopper_ = std::thread([this, deadline] {
    while (service_->calls_in_flight() > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    server_->Shutdown(std::chrono::system_clock::now());
    stopped_ = true;
  });
}

}  // namespace md::net
