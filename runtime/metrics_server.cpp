#include "runtime/metrics_server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "actors/inspector/inspect_views.hpp"

namespace tidewatch {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct metrics_server::impl {
  caf::actor_system& sys;
  inspector_actor inspector;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;

  impl(caf::actor_system& s, inspector_actor i) : sys(s), inspector(std::move(i)) {}

  /// The body of a scrape; false when the node did not answer.
  bool scrape(std::string& body) {
    bool ok = false;
    caf::scoped_actor self{sys};
    self->request(inspector, std::chrono::seconds(4), stats_atom::value)
        .receive(
            [&](std::vector<stats_snapshot>& xs) {
              body = render_prometheus(xs);
              ok = true;
            },
            [&](caf::error& e) { body = "inspector: " + sys.render(e) + "\n"; });
    return ok;
  }

  void serve(tcp::socket socket) {
    timeval tv{5, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> req;
    boost::beast::error_code ec;
    http::read(socket, buffer, req, ec);
    if (ec)
      return;
    http::response<http::string_body> res;
    res.version(req.version());
    res.keep_alive(false);
    res.set(http::field::server, "tidewatchd");
    auto target = std::string_view(req.target().data(), req.target().size());
    target = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.set(http::field::allow, "GET, HEAD");
    } else if (target != "/metrics") {
      res.result(http::status::not_found);
      res.body() = "tidewatchd serves /metrics\n";
    } else {
      res.result(scrape(res.body()) ? http::status::ok : http::status::service_unavailable);
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
    }
    res.prepare_payload();
    if (req.method() == http::verb::head)
      res.body().clear();
    http::write(socket, res, ec);
    socket.shutdown(tcp::socket::shutdown_send, ec);
  }

  void accept() {
    acceptor.async_accept([this](boost::beast::error_code ec, tcp::socket socket) {
      if (ec == asio::error::operation_aborted)
        return;
      if (!ec)
        serve(std::move(socket));
      accept();
    });
  }
};

metrics_server::metrics_server(std::unique_ptr<impl> x) : impl_(std::move(x)) {}

std::unique_ptr<metrics_server> metrics_server::start(caf::actor_system& sys,
                                                      inspector_actor inspector,
                                                      const std::string& host, uint16_t port,
                                                      std::string& error) {
  auto x = std::make_unique<impl>(sys, std::move(inspector));
  boost::beast::error_code ec;
  auto address = asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  tcp::endpoint endpoint{address, port};
  if (!ec)
    x->acceptor.open(endpoint.protocol(), ec);
  if (!ec)
    x->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    x->acceptor.bind(endpoint, ec);
  if (!ec)
    x->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = ec.message();
    return nullptr;
  }
  x->accept();
  x->thread = std::thread([p = x.get()] { p->io.run(); });
  return std::unique_ptr<metrics_server>(new metrics_server(std::move(x)));
}

metrics_server::~metrics_server() {
  impl_->io.stop();
  impl_->thread.join();
}

uint16_t metrics_server::port() const {
  return impl_->acceptor.local_endpoint().port();
}

} // namespace tidewatch
