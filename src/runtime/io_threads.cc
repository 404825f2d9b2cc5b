#include "runtime/io_threads.h"

#include <pthread.h>

#include <string>

namespace md::runtime {

IoThreads::IoThreads(unsigned count) {
  for (unsigned i = 0; i < count; ++i) {
    auto t = std::make_unique<Thread>();
    t->thread = std::thread([io = &t->io, i] {
      pthread_setname_np(pthread_self(), ("md-io-" + std::to_string(i + 1)).c_str());  // top -H, perf
      io->run();
    });
    threads_.push_back(std::move(t));
  }
}

IoThreads::~IoThreads() { stop(); }

std::vector<boost::asio::io_context*> IoThreads::contexts() const {
  std::vector<boost::asio::io_context*> contexts;
  for (const auto& t : threads_) contexts.push_back(&t->io);
  return contexts;
}

void IoThreads::stop() {
  for (auto& t : threads_) {
    if (t->thread.joinable()) t->mailbox.post([io = &t->io] { io->stop(); });
  }
  for (auto& t : threads_) {
    if (t->thread.joinable()) t->thread.join();
  }
}

}  // namespace md::runtime
