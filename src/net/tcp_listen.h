// Opening a listening TCP port, as the node's client servers (HTTP, RESP) do it.
#pragma once

#include <utility>  // before Asio: g++ 12 with Boost 1.74 (docs/design.md, "The runtime")

#include <boost/asio/ip/tcp.hpp>

#include <string>
#include <string_view>

#include "core/status.h"

namespace md::net {

// Opens, binds and listens `acceptor` on `endpoint`. reuse_address lets a restarted node bind while
// old connections sit in TIME_WAIT (Linux still refuses a port another socket listens on). The
// error names the protocol and the address: "cannot listen for HTTP on 127.0.0.1:5001: ...".
inline Status listen_on(boost::asio::ip::tcp::acceptor& acceptor, const boost::asio::ip::tcp::endpoint& endpoint,
                        std::string_view protocol) {
  boost::system::error_code ec;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(boost::asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(boost::asio::socket_base::max_listen_connections, ec);
  if (!ec) return Status::ok();
  return Status::io_error("cannot listen for " + std::string(protocol) + " on " + endpoint.address().to_string() + ":" +
                          std::to_string(endpoint.port()) + ": " + ec.message());
}

}  // namespace md::net
