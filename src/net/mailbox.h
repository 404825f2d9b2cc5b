// How other threads hand work to a thread that runs an io_context, without a lock (--threads,
// docs/design.md "Threads"): the node's thread gets its requests from the I/O threads and its
// writes' outcomes from the commit thread this way, and each I/O thread its connections and their
// answers.
//
// One per io_context, as an Asio service: Mailbox::of(io) finds it (that lookup takes Asio's
// registry lock, so callers look it up once, at setup, not per request). Tasks run on the context's
// thread, in the order each producer posted them, in rounds between which the context serves its
// sockets and timers. Its wait on the queue (net/handoff.h) is pending work: the context runs until
// it is stopped.
//
// A context whose locking is off (BOOST_ASIO_CONCURRENCY_HINT_UNSAFE, as a node's are) must never be
// touched by another thread: create its mailbox before the context runs, let every other thread
// reach it only through post(), and hand other threads references to its objects only through
// released_here().
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>
#include <memory>

#include "net/handoff.h"

namespace md::net {

class Mailbox final : public boost::asio::execution_context::service {
 public:
  using Task = std::function<void()>;

  // The context's mailbox, made on first use.
  static Mailbox& of(boost::asio::io_context& io) { return boost::asio::use_service<Mailbox>(io); }

  // Any thread: `task` runs on the context's thread.
  void post(Task task) { queue_.push(std::move(task)); }
  // At once when called on the context's thread, else post().
  void dispatch(Task task) {
    if (io_.get_executor().running_in_this_thread()) return task();
    post(std::move(task));
  }

  // A reference to `object` (one of this thread's, holding its sockets or timers) for other threads
  // to hold: wherever its last copy goes, `object` itself is let go on this thread. With Asio's
  // locking off, an I/O object must never be destroyed on a thread whose context it is not of.
  template <class T>
  std::shared_ptr<T> released_here(std::shared_ptr<T> object) {
    T* raw = object.get();
    return std::shared_ptr<T>(raw, [this, object = std::move(object)](T*) mutable {
      dispatch([last = std::move(object)] {});
    });
  }

  // For Asio's service registry.
  static inline boost::asio::execution_context::id id;
  explicit Mailbox(boost::asio::io_context& io);

 private:
  void shutdown() override;
  void wait();
  void run_round();

  boost::asio::io_context& io_;
  Handoff<Task> queue_;
  boost::asio::posix::stream_descriptor ready_;  // queue_.fd(), duplicated: the descriptor closes its own
};

}  // namespace md::net
