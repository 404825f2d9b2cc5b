// The gRPC front end from a C++ client (the generated stub), in two ways:
//  - GrpcServerTest: the server alone on an io thread, over a stand-in core that holds answers
//    until the test releases them, so the races between a late answer and the client's deadline,
//    a cancel or a shutdown are driven step by step (an OS-chosen port);
//  - GrpcNodeTest: real minidynamo processes (HTTP ports 20380-20399, gRPC = HTTP - 8000), always
//    stopped: round trips, siblings, and every status code the service documents.
#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio.hpp>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <map>
#include <thread>

#include "minidynamo/v1/kv.grpc.pb.h"
#include "net/grpc_server.h"

namespace md::net {
namespace {

namespace asio = boost::asio;
namespace v1 = ::minidynamo::v1;
using namespace std::chrono_literals;

// A channel that retries a refused connect within 100 ms (gRPC's default backoff starts at 1 s and
// grows, which would make waiting for a starting node take seconds).
std::unique_ptr<v1::KeyValue::Stub> stub_for(uint16_t port) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 50);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 100);
  return v1::KeyValue::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials(), args));
}

void set_deadline(grpc::ClientContext& context, std::chrono::milliseconds after) {
  context.set_deadline(std::chrono::system_clock::now() + after);
}

// A GrpcServer over a stand-in core: every submitted request waits in `held` until release().
class GrpcServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    GrpcServerOptions options;
    options.limits.key_bytes_max = 16;
    options.limits.value_bytes_max = 100;
    options.message_bytes_max = 4096;
    server_ = std::make_unique<GrpcServer>(
        io_, options,
        [this](const Caller& caller, core::ClientRequest request, ClientDone done) {
          EXPECT_EQ(caller.protocol, Protocol::grpc);
          EXPECT_EQ(caller.address, "127.0.0.1");
          held_.push_back({std::move(request), std::move(done)});
          submitted_.set_value();
        },
        [] { return GrpcHealth{true, "node_test"}; }, [this](core::Op) { ++refused_; });
    ASSERT_TRUE(server_->listen("127.0.0.1", 0).is_ok());
    thread_ = std::thread([this] { io_.run(); });
    stub_ = stub_for(server_->port());
  }
  void TearDown() override {
    stop_server();
    io_.stop();  // the server's mailbox (net/mailbox.h) keeps it running until then
    thread_.join();
  }
  void stop_server() {
    if (!server_) return;
    server_->begin_shutdown(std::chrono::steady_clock::now() + 2s);
    while (!server_->stopped()) std::this_thread::yield();  // answers in flight are sent from the io thread meanwhile
    server_.reset();
  }
  // Waits until the server submitted a request to the stand-in core.
  void await_submitted() {
    submitted_.get_future().get();
    submitted_ = {};
  }
  // Answers the oldest held request on the io thread; returns once it was answered.
  void release(core::ClientResponse response) {
    std::promise<void> done;
    asio::post(io_, [&] {
      auto call = std::move(held_.front());
      held_.erase(held_.begin());
      call.second(std::move(response));
      done.set_value();
    });
    done.get_future().get();
  }

  asio::io_context io_;
  std::vector<std::pair<core::ClientRequest, ClientDone>> held_;  // on the io thread only
  std::promise<void> submitted_;
  int refused_ = 0;
  std::unique_ptr<GrpcServer> server_;
  std::thread thread_;
  std::unique_ptr<v1::KeyValue::Stub> stub_;
};

TEST_F(GrpcServerTest, an_answer_finishes_the_call_with_the_request_translated_for_the_core) {
  grpc::ClientContext context;
  v1::PutRequest request;
  request.set_key("k");
  request.set_value("say \"hi\"");
  request.set_w(2);
  request.set_strict_quorum(true);
  v1::PutResponse response;
  auto reply = std::async(std::launch::async, [&] { return stub_->Put(&context, request, &response); });
  await_submitted();
  std::promise<core::ClientRequest> seen;
  asio::post(io_, [&] { seen.set_value(held_.front().first); });
  core::ClientRequest expected;
  expected.op = core::Op::put;
  expected.key = "k";
  expected.value = R"("say \"hi\"")";
  expected.w = 2;
  expected.sloppy_quorum = false;
  EXPECT_EQ(seen.get_future().get(), expected);
  core::ClientResponse answer;
  answer.acknowledged = 2;
  answer.context_token = "ctx";
  release(answer);
  auto status = reply.get();
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.replicas_written(), 2u);
  EXPECT_EQ(response.context(), "ctx");
}

TEST_F(GrpcServerTest, the_clients_deadline_ends_the_call_and_the_late_answer_is_dropped) {
  grpc::ClientContext context;
  set_deadline(context, 200ms);
  v1::GetRequest request;
  request.set_key("k");
  v1::GetResponse response;
  auto reply = std::async(std::launch::async, [&] { return stub_->Get(&context, request, &response); });
  await_submitted();
  EXPECT_EQ(reply.get().error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  core::ClientResponse late;
  late.siblings.push_back(core::Sibling{});
  release(late);  // after the call was finished and gRPC freed its messages: must not touch them
  grpc::ClientContext next;
  v1::HealthResponse health;
  ASSERT_TRUE(stub_->Health(&next, v1::HealthRequest(), &health).ok());
  EXPECT_EQ(health.node_id(), "node_test");
}

TEST_F(GrpcServerTest, a_cancelled_call_ends_at_once_and_a_shutdown_does_not_wait_for_the_core) {
  grpc::ClientContext cancelled, held;
  v1::GetRequest request;
  request.set_key("k");
  v1::GetResponse r1, r2;
  auto first = std::async(std::launch::async, [&] { return stub_->Get(&cancelled, request, &r1); });
  await_submitted();
  cancelled.TryCancel();
  EXPECT_EQ(first.get().error_code(), grpc::StatusCode::CANCELLED);
  auto second = std::async(std::launch::async, [&] { return stub_->Get(&held, request, &r2); });
  await_submitted();
  const auto began = std::chrono::steady_clock::now();
  server_->begin_shutdown(std::chrono::steady_clock::now() + 100ms);  // the core never answers
  EXPECT_NE(second.get().error_code(), grpc::StatusCode::OK);
  while (!server_->stopped()) std::this_thread::yield();
  EXPECT_LT(std::chrono::steady_clock::now() - began, 5s);
  release({});  // both answers come after the end
  release({});
}

TEST_F(GrpcServerTest, bad_input_is_refused_before_the_core_and_oversized_messages_unread) {
  auto call = [&](const std::string& key, size_t value_bytes) {
    grpc::ClientContext context;
    v1::PutRequest request;
    request.set_key(key);
    request.set_value(std::string(value_bytes, 'v'));
    v1::PutResponse response;
    return stub_->Put(&context, request, &response);
  };
  EXPECT_EQ(call("", 1).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(call(std::string(17, 'k'), 1).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  auto too_long = call("k", 99);  // 101 bytes as a JSON string
  EXPECT_EQ(too_long.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(too_long.error_message().find("limit is 100"), std::string::npos) << too_long.error_message();
  EXPECT_EQ(call("k", 8192).error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  grpc::ClientContext context;
  v1::ListRequest list;
  list.set_cursor("zz");
  auto reader = stub_->List(&context, list);
  v1::ListResponse page;
  EXPECT_FALSE(reader->Read(&page));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  std::promise<int> refused;
  asio::post(io_, [&] { refused.set_value(refused_); });
  EXPECT_EQ(refused.get_future().get(), 4);  // counted as the node's bad requests; the oversized one never arrived
}

TEST_F(GrpcServerTest, list_streams_pages_until_the_core_says_the_last) {
  grpc::ClientContext context;
  v1::ListRequest request;
  request.set_prefix("p");
  request.set_limit(2);
  auto reader = stub_->List(&context, request);
  std::vector<std::string> keys;
  auto page_answer = [](std::vector<std::string> page, std::optional<std::string> next) {
    core::ClientResponse answer;
    answer.keys = std::move(page);
    answer.next_cursor = std::move(next);
    return answer;
  };
  v1::ListResponse page;
  await_submitted();
  release(page_answer({"p1", "p2"}, "p2"));
  ASSERT_TRUE(reader->Read(&page));
  EXPECT_FALSE(page.next_cursor().empty());
  await_submitted();
  std::promise<core::ClientRequest> second;
  asio::post(io_, [&] { second.set_value(held_.front().first); });
  auto asked = second.get_future().get();
  EXPECT_EQ(asked.cursor, "p2");  // the core is asked strictly after the last page's key
  EXPECT_EQ(asked.limit, 2u);
  release(page_answer({"p3"}, std::nullopt));
  ASSERT_TRUE(reader->Read(&page));
  EXPECT_EQ(page.keys_size(), 1);
  EXPECT_TRUE(page.next_cursor().empty());
  EXPECT_FALSE(reader->Read(&page));
  EXPECT_TRUE(reader->Finish().ok());
}

// A node process; stopped (SIGTERM, then SIGKILL) when destroyed.
class NodeProcess {
 public:
  NodeProcess(uint16_t http_port, const std::string& nodes, const std::string& data_dir,
              std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {MINIDYNAMO_BIN, "node", "--port", std::to_string(http_port), "--nodes", nodes,
                                     "--data-dir", data_dir, "--engine", "memory", "--peer-port-offset", "1000",
                                     "--resp-port", std::to_string(http_port - 10000),
                                     "--grpc-port", std::to_string(http_port - 8000), "--log-level", "warn"};
    args.insert(args.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(argv[0], argv.data());
      _exit(127);
    }
  }
  ~NodeProcess() { stop(); }
  void signal(int sig) { ::kill(pid_, sig); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGCONT);
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    int status = 0;
    while (waitpid(pid_, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(10ms);  // polling the child's exit against a deadline
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

// Waits (up to 20 s) until the node's gRPC Health says ready.
bool await_ready(v1::KeyValue::Stub& stub) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    grpc::ClientContext context;
    set_deadline(context, 500ms);
    context.set_wait_for_ready(true);  // waits for the port to open, up to the call's deadline
    v1::HealthResponse health;
    if (stub.Health(&context, v1::HealthRequest(), &health).ok() && health.ready()) return true;
  }
  return false;
}

// The first of two HTTP ports for the running test: 20381 plus two per test before it in the
// suite, so that ctest, which runs each test as a process of its own and in parallel, never gives
// two of them one port.
uint16_t node_base_port() {
  const auto* suite = ::testing::UnitTest::GetInstance()->current_test_suite();
  const auto* running = ::testing::UnitTest::GetInstance()->current_test_info();
  int index = 0;
  while (index < suite->total_test_count() && suite->GetTestInfo(index) != running) ++index;
  return static_cast<uint16_t>(20381 + 2 * index);
}

// Two real nodes on 20381-20382 (gRPC 12381-12382) for the first test, the next two for the next, N=2.
class GrpcNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("minidynamo-grpc-test-" + std::to_string(getpid()));
    const uint16_t base = node_base_port();
    const std::string nodes = "127.0.0.1:" + std::to_string(base) + ",127.0.0.1:" + std::to_string(base + 1);
    for (uint16_t port : {base, static_cast<uint16_t>(base + 1)}) {
      nodes_.push_back(std::make_unique<NodeProcess>(port, nodes, (dir_ / std::to_string(port)).string(),
                                                     std::vector<std::string>{"--n", "2", "--r", "1", "--w", "1",
                                                                              "--timeout-ms", "3000", "--max-siblings", "2"}));
    }
    a_ = stub_for(static_cast<uint16_t>(base - 8000));
    b_ = stub_for(static_cast<uint16_t>(base + 1 - 8000));
    ASSERT_TRUE(await_ready(*a_) && await_ready(*b_)) << "the nodes did not start";
    // Ready is each node on its own; a read with R=2 also needs the peer connection between them,
    // which may come up after a refused first dial (busy CI hosts): wait until one is answered.
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    for (auto* stub : {a_.get(), b_.get()}) {
      v1::GetResponse read;
      while (get(*stub, "peers-connected", &read).error_code() == grpc::StatusCode::UNAVAILABLE &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(20ms);  // a poll, as the harness's wait_until: the nodes show no event for it
      }
    }
  }
  void TearDown() override {
    nodes_.clear();
    std::filesystem::remove_all(dir_);
  }
  grpc::Status put(v1::KeyValue::Stub& stub, const std::string& key, const std::string& value, v1::PutResponse* out,
                   const std::string& context_token = "", std::optional<int> w = std::nullopt,
                   std::chrono::milliseconds timeout = 10s) {
    grpc::ClientContext context;
    set_deadline(context, timeout);
    v1::PutRequest request;
    request.set_key(key);
    request.set_value(value);
    request.set_context(context_token);
    if (w) request.set_w(*w);
    return stub.Put(&context, request, out);
  }
  grpc::Status get(v1::KeyValue::Stub& stub, const std::string& key, v1::GetResponse* out, int r = 2) {
    grpc::ClientContext context;
    set_deadline(context, 10s);
    v1::GetRequest request;
    request.set_key(key);
    request.set_r(r);
    return stub.Get(&context, request, out);
  }

  std::filesystem::path dir_;
  std::vector<std::unique_ptr<NodeProcess>> nodes_;
  std::unique_ptr<v1::KeyValue::Stub> a_, b_;
};

TEST_F(GrpcNodeTest, put_get_delete_round_trip_with_siblings_and_their_vector_clocks) {
  v1::PutResponse written;
  ASSERT_TRUE(put(*a_, "k", "one", &written, "", 2).ok());
  EXPECT_EQ(written.replicas_written(), 2u);
  ASSERT_TRUE(put(*b_, "k", "two", &written, "", 2).ok());  // blind, through the other node: a sibling
  v1::GetResponse read;
  ASSERT_TRUE(get(*a_, "k", &read).ok());
  ASSERT_EQ(read.siblings_size(), 2);
  std::map<std::string, std::map<std::string, uint64_t>> clocks;
  for (const auto& s : read.siblings()) clocks[s.value()] = {s.vector_clock().begin(), s.vector_clock().end()};
  ASSERT_EQ(clocks.size(), 2u);
  EXPECT_NE(clocks["one"], clocks["two"]);  // each made by its own coordinator
  EXPECT_EQ(clocks["one"].size(), 1u);
  ASSERT_TRUE(put(*a_, "k", "both", &written, read.context(), 2).ok());
  ASSERT_TRUE(get(*b_, "k", &read).ok());
  ASSERT_EQ(read.siblings_size(), 1);
  EXPECT_EQ(read.siblings(0).value(), "both");
  grpc::ClientContext context;
  v1::DeleteRequest del;
  del.set_key("k");
  del.set_context(read.context());
  v1::DeleteResponse deleted;
  ASSERT_TRUE(a_->Delete(&context, del, &deleted).ok());
  EXPECT_EQ(get(*a_, "k", &read).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(GrpcNodeTest, every_error_has_its_code) {
  v1::PutResponse written;
  v1::GetResponse read;
  EXPECT_EQ(put(*a_, "k", "v", &written, "", -1).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(put(*a_, "k", "v", &written, "", 3).error_code(), grpc::StatusCode::INVALID_ARGUMENT);  // N is 2
  EXPECT_EQ(put(*a_, "", "v", &written).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(put(*a_, std::string(1025, 'k'), "v", &written).error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(get(*a_, "absent", &read).error_code(), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(put(*a_, "crowded", "1", &written).ok());
  ASSERT_TRUE(put(*a_, "crowded", "2", &written).ok());
  EXPECT_EQ(put(*a_, "crowded", "3", &written).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  // Node B silent but connected: a write at W=2 waits for the node's 3 s timeout, so the client's
  // 300 ms deadline comes first...
  nodes_[1]->signal(SIGSTOP);
  auto began = std::chrono::steady_clock::now();
  EXPECT_EQ(put(*a_, "slow", "v", &written, "", 2, 300ms).error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_LT(std::chrono::steady_clock::now() - began, 2s);
  // ...and without a shorter deadline the node answers UNAVAILABLE with what it required and got.
  auto unavailable = put(*a_, "slow", "v", &written, "", 2);
  EXPECT_EQ(unavailable.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(unavailable.error_message().find("(required 2, acknowledged 1)"), std::string::npos)
      << unavailable.error_message();
  nodes_[1]->signal(SIGCONT);
  ASSERT_TRUE(await_ready(*a_));
}

}  // namespace
}  // namespace md::net
