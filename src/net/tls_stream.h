// A connected TCP stream spoken in clear text or in TLS (net/tls.h), as one type: the peer
// transport and the HTTP and RESP servers read and write it the same way whichever it is, so each
// has one code path for both. What travels over it (frames, HTTP, RESP) is the caller's; TLS wraps
// the bytes only.
//
// It is an Asio AsyncReadStream and AsyncWriteStream (asio::async_read and async_write work on it).
// A TLS stream must complete async_handshake before it is read or written; a clear-text one has
// no handshake. One read and one write may be in flight at once, as on a socket.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <cassert>
#include <memory>
#include <variant>

#include "net/tls.h"

namespace md::net {

class PlainOrTlsStream {
 public:
  using tcp = boost::asio::ip::tcp;
  using TlsStream = boost::asio::ssl::stream<tcp::socket>;
  using executor_type = tcp::socket::executor_type;

  // `tls` null: clear text; else TLS with that context (a server or client one, net/tls.h), which
  // this stream keeps alive: a context replaced meanwhile (a reload) serves later streams only.
  PlainOrTlsStream(tcp::socket socket, std::shared_ptr<TlsContext> tls)
      : context_(std::move(tls)), stream_(make(std::move(socket), context_.get())) {}

  bool is_tls() const { return context_ != nullptr; }
  // The TCP layer: for connecting, socket options, addresses and closing (which ends any
  // operation in flight, the handshake included).
  tcp::socket& socket() { return is_tls() ? std::get<TlsStream>(stream_).next_layer() : std::get<tcp::socket>(stream_); }
  executor_type get_executor() { return socket().get_executor(); }

  template <class Token>
  auto async_handshake(boost::asio::ssl::stream_base::handshake_type side, Token&& token) {
    assert(is_tls());
    return std::get<TlsStream>(stream_).async_handshake(side, std::forward<Token>(token));
  }

  // The TLS connection (only for a TLS stream), for what the handshake established.
  SSL* native_handle() {
    assert(is_tls());
    return std::get<TlsStream>(stream_).native_handle();
  }

  // Sends TLS's close_notify and waits for the other side's; only for a TLS stream.
  template <class Token>
  auto async_shutdown(Token&& token) {
    assert(is_tls());
    return std::get<TlsStream>(stream_).async_shutdown(std::forward<Token>(token));
  }

  template <class Buffers, class Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return on_either(buffers, std::forward<Token>(token), [](auto& stream, const Buffers& b, auto handler) {
      stream.async_read_some(b, std::move(handler));
    });
  }

  template <class Buffers, class Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return on_either(buffers, std::forward<Token>(token), [](auto& stream, const Buffers& b, auto handler) {
      stream.async_write_some(b, std::move(handler));
    });
  }

 private:
  using Stream = std::variant<tcp::socket, TlsStream>;
  // Starts `op` (a read or a write) on whichever stream this is.
  template <class Buffers, class Token, class Op>
  auto on_either(const Buffers& buffers, Token&& token, Op op) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this, op](auto handler, const Buffers& b) {
          std::visit([&](auto& stream) { op(stream, b, std::move(handler)); }, stream_);
        },
        token, buffers);
  }
  static Stream make(tcp::socket socket, TlsContext* tls) {
    if (tls) return Stream(std::in_place_type<TlsStream>, std::move(socket), *tls);
    return Stream(std::in_place_type<tcp::socket>, std::move(socket));
  }

  std::shared_ptr<TlsContext> context_;  // before stream_, which is made with it
  Stream stream_;
};

}  // namespace md::net
