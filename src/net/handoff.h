// A queue that hands things from any thread to one consumer thread without a lock (--threads,
// docs/design.md "Threads"): a push is two atomic exchanges and one atomic store, plus one write
// to an eventfd when the consumer has to be told.
//
// The consumer holds a "signal" while it works: pushes meanwhile only queue, and a busy consumer
// costs its producers no system call. When the consumer has taken what there was, rearm() gives the
// signal back; the first push after that writes fd(), which the consumer waits on (in its
// io_context, net/mailbox.h, or in poll(), runtime/durable_writer.h).
//
// The queue is Dmitry Vyukov's multi-producer, single-consumer list: producers swap
// themselves in at the head, the consumer walks from the tail. A push that has swapped but not yet
// linked its node hides what comes after it for that instant; its own signal step comes after the
// link, so nothing is left unseen once every push has returned.
#pragma once

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <optional>
#include <system_error>
#include <utility>

namespace md::net {

template <class T>
class Handoff {
 public:
  Handoff() : head_(new Node), tail_(head_.load()), fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  // Destroys what is still queued, unrun.
  ~Handoff() {
    while (pop()) {
    }
    delete tail_;
    ::close(fd_);
  }
  Handoff(const Handoff&) = delete;
  Handoff& operator=(const Handoff&) = delete;

  // Any thread.
  void push(T value) {
    Node* node = new Node;
    node->value.emplace(std::move(value));
    Node* before = head_.exchange(node, std::memory_order_acq_rel);
    before->next.store(node, std::memory_order_seq_cst);
    if (!signalled_.exchange(true, std::memory_order_seq_cst)) signal();
  }
  // Makes fd() readable whatever the signal's state (a stop, say, that must wake the consumer).
  void signal() {
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t ignored = ::write(fd_, &one, sizeof one);  // only EAGAIN: already readable
  }

  // The consumer's side, on its one thread.
  //
  // The oldest thing queued, if any.
  std::optional<T> pop() {
    Node* next = tail_->next.load(std::memory_order_acquire);
    if (next == nullptr) return std::nullopt;
    std::optional<T> value = std::move(next->value);
    next->value.reset();
    delete tail_;
    tail_ = next;  // the new stub
    return value;
  }
  // Gives the signal back once the consumer has taken what there was. True if something came
  // meanwhile and the consumer holds the signal again: it must take that too, unwoken. False: the
  // next push writes fd().
  bool rearm() {
    signalled_.store(false, std::memory_order_seq_cst);
    if (tail_->next.load(std::memory_order_seq_cst) == nullptr) return false;
    return !signalled_.exchange(true, std::memory_order_seq_cst);  // else that push's write wakes us
  }
  // Readable once a push (or signal()) wrote it; clear() empties it.
  int fd() const { return fd_; }
  void clear() {
    uint64_t count = 0;
    [[maybe_unused]] const ssize_t ignored = ::read(fd_, &count, sizeof count);  // EAGAIN: nothing written
  }

 private:
  struct Node {
    std::atomic<Node*> next{nullptr};
    std::optional<T> value;
  };

  std::atomic<Node*> head_;  // the newest node; producers swap themselves in here
  Node* tail_;               // a stub whose value is taken; the consumer's alone
  std::atomic<bool> signalled_{false};
  int fd_;
};

}  // namespace md::net
