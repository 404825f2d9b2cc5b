#include "net/mailbox.h"

#include <boost/asio/post.hpp>

#include <unistd.h>

namespace md::net {

namespace {
// Tasks per round: enough that a burst costs one wake-up, few enough that sockets wait little.
constexpr int kRound = 64;
}  // namespace

Mailbox::Mailbox(boost::asio::io_context& io)
    : boost::asio::execution_context::service(io), io_(io), ready_(io, ::dup(queue_.fd())) {
  wait();
}

void Mailbox::shutdown() {
  boost::system::error_code ignored;
  ready_.close(ignored);
  while (queue_.pop()) {  // the context is going away: what it never ran is destroyed while its services live
  }
}

void Mailbox::wait() {
  ready_.async_wait(boost::asio::posix::descriptor_base::wait_read, [this](boost::system::error_code ec) {
    if (ec) return;  // closed: the context is going away
    queue_.clear();
    wait();
    run_round();
  });
}

void Mailbox::run_round() {
  for (int i = 0; i < kRound; ++i) {
    std::optional<Task> task = queue_.pop();
    if (!task) {
      if (!queue_.rearm()) return;  // the next post wakes us
      continue;                     // one came meanwhile, and the signal is ours again
    }
    (*task)();
  }
  // A full round: the sockets and timers get their turn, then the next round (the signal is still
  // ours, so posts meanwhile cost no wake-up). A post from this thread to its own context takes no lock.
  boost::asio::post(io_, [this] { run_round(); });
}

}  // namespace md::net
