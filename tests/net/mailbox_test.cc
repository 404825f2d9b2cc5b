// The lock-free hand-off between threads (net/handoff.h) and the io_context's mailbox on it
// (net/mailbox.h): nothing lost, each producer's order kept, a busy consumer not woken, a flood
// that does not starve the context's timers, and objects let go on their own thread. Run under
// TSan too (scripts/sanitizers.sh).
#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <gtest/gtest.h>
#include <poll.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <thread>
#include <vector>

#include "net/handoff.h"
#include "net/mailbox.h"

namespace md::net {
namespace {

bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, 0) == 1;
}

TEST(Handoff, the_first_push_to_an_idle_consumer_signals_and_pushes_while_it_works_do_not) {
  Handoff<int> queue;
  EXPECT_FALSE(readable(queue.fd()));
  queue.push(1);
  ASSERT_TRUE(readable(queue.fd()));  // the consumer waited: it is woken
  queue.clear();
  // The consumer now holds the signal: pushes only queue, with no write to wake it.
  queue.push(2);
  queue.push(3);
  EXPECT_FALSE(readable(queue.fd()));
  EXPECT_EQ(queue.pop(), 1);
  EXPECT_EQ(queue.pop(), 2);
  EXPECT_EQ(queue.pop(), 3);
  EXPECT_EQ(queue.pop(), std::nullopt);
  EXPECT_FALSE(queue.rearm());  // nothing came meanwhile: the next push signals
  queue.push(4);
  EXPECT_TRUE(readable(queue.fd()));
}

TEST(Handoff, a_push_between_the_last_pop_and_rearm_is_the_consumers_to_take_at_once) {
  Handoff<int> queue;
  queue.push(1);
  queue.clear();
  EXPECT_EQ(queue.pop(), 1);
  queue.push(2);                // still held: no signal
  EXPECT_TRUE(queue.rearm());   // so rearm() says there is more, and the consumer keeps the signal
  EXPECT_FALSE(readable(queue.fd()));
  EXPECT_EQ(queue.pop(), 2);
  queue.push(3);
  EXPECT_FALSE(readable(queue.fd()));  // held still
}

TEST(Handoff, destroying_it_destroys_what_is_queued) {
  auto counted = std::make_shared<int>(0);
  {
    Handoff<std::shared_ptr<int>> queue;
    queue.push(counted);
    queue.push(counted);
    EXPECT_EQ(counted.use_count(), 3);
  }
  EXPECT_EQ(counted.use_count(), 1);
}

// Producers on several threads post numbered tasks to a context that runs on its own: each runs
// once, and each producer's run in the order it posted them.
TEST(Mailbox, every_post_from_every_thread_runs_once_in_each_threads_order) {
  boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  Mailbox& mailbox = Mailbox::of(io);
  constexpr int kProducers = 4, kTasks = 20000;
  std::vector<int> next(kProducers, 0);  // touched only on the context's thread
  int out_of_order = 0;
  int ran = 0;
  std::thread consumer([&] { io.run(); });
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int i = 0; i < kTasks; ++i) {
        mailbox.post([&, p, i] {
          if (next[p] != i) ++out_of_order;
          next[p] = i + 1;
          if (++ran == kProducers * kTasks) io.stop();
        });
      }
    });
  }
  for (auto& t : producers) t.join();
  consumer.join();  // returns once the last task ran: a lost one would hang the test
  EXPECT_EQ(ran, kProducers * kTasks);
  EXPECT_EQ(out_of_order, 0);
}

TEST(Mailbox, dispatch_on_the_contexts_thread_runs_at_once_and_elsewhere_posts) {
  boost::asio::io_context io;
  Mailbox& mailbox = Mailbox::of(io);
  std::promise<std::thread::id> ran_on;
  mailbox.dispatch([&] {
    bool inline_ran = false;
    mailbox.dispatch([&] { inline_ran = true; });
    EXPECT_TRUE(inline_ran);
    ran_on.set_value(std::this_thread::get_id());
    io.stop();
  });
  std::thread consumer([&] { io.run(); });
  const std::thread::id consumer_id = consumer.get_id();
  consumer.join();
  EXPECT_EQ(ran_on.get_future().get(), consumer_id);
}

// A task that posts itself again, forever: the context still serves its timer between rounds.
TEST(Mailbox, a_flood_of_posts_leaves_the_context_time_for_its_timers) {
  boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  Mailbox& mailbox = Mailbox::of(io);
  bool fired = false;
  uint64_t runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    if (!fired) mailbox.post(again);
  };
  boost::asio::steady_timer timer(io, std::chrono::milliseconds(20));
  timer.async_wait([&](boost::system::error_code) {
    fired = true;
    io.stop();
  });
  mailbox.post(again);
  io.run();  // without rounds, the flood would keep the timer from ever running: the test would hang
  EXPECT_TRUE(fired);
  EXPECT_GT(runs, 64u);  // more than one round ran before it
}

// Another thread holds a connection, say, of the context's thread: when it lets go of the last
// reference, the object goes on the context's thread, never on its own.
TEST(Mailbox, an_object_released_here_is_let_go_on_the_mailboxs_thread_wherever_its_last_reference_goes) {
  struct Tracked {
    explicit Tracked(std::promise<std::thread::id>* on) : destroyed_on(on) {}
    ~Tracked() { destroyed_on->set_value(std::this_thread::get_id()); }
    std::promise<std::thread::id>* destroyed_on;
  };
  boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
  Mailbox& mailbox = Mailbox::of(io);
  std::thread consumer([&] { io.run(); });
  std::promise<std::thread::id> destroyed_on;
  std::shared_ptr<Tracked> remote = mailbox.released_here(std::make_shared<Tracked>(&destroyed_on));
  std::thread other([held = std::move(remote)]() mutable { held.reset(); });  // the last reference goes here
  const std::thread::id other_id = other.get_id();
  other.join();
  const std::thread::id id = destroyed_on.get_future().get();
  EXPECT_EQ(id, consumer.get_id());
  EXPECT_NE(id, other_id);
  mailbox.post([&] { io.stop(); });
  consumer.join();
}

}  // namespace
}  // namespace md::net
