// The threads a node serves its client connections on (--threads K: K - 1 of them, beside the
// node's own), each running an io_context of its own.
//
// The HTTP and RESP servers accept on the node's thread and spread their connections over these
// (net/connection_set.h): a connection's reads, parsing, inflating, compressing and writes run on
// its thread, and each request is handed to the node's thread, where the core, the peers and the
// storage reads run, one thread as ever (its writes go on to the durable writer's); the answer is
// handed back. Both hand-offs go through the receiving thread's mailbox (net/mailbox.h), without a
// lock (docs/design.md, "Threads"). So the protocol stays single-threaded, as the simulator
// runs it, and the node's thread is left to it. With --threads 1 there are none, and the node's
// thread serves the connections and writes what needs no fsync itself.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/io_context.hpp>

#include <memory>
#include <thread>
#include <vector>

#include "net/mailbox.h"

namespace md::runtime {

class IoThreads {
 public:
  // Starts `count` threads; each runs until stop().
  explicit IoThreads(unsigned count);
  // stop()
  ~IoThreads();
  IoThreads(const IoThreads&) = delete;
  IoThreads& operator=(const IoThreads&) = delete;

  // The threads' contexts, in order. They outlive stop(): what is still queued on them is destroyed
  // with this object.
  std::vector<boost::asio::io_context*> contexts() const;
  // Stops every context (from its own thread) and joins the threads (what they had queued is not
  // run). Idempotent.
  void stop();

 private:
  struct Thread {
    // Its locking off: other threads reach it only through its mailbox (net/mailbox.h), made here
    // before the thread starts; the mailbox's wait keeps it running until stop().
    boost::asio::io_context io{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE};
    net::Mailbox& mailbox = net::Mailbox::of(io);
    std::thread thread;
  };
  std::vector<std::unique_ptr<Thread>> threads_;
};

}  // namespace md::runtime
