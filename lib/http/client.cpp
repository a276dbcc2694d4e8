#include "http/client.hpp"

#include "http/engine.hpp"

#include <curl/curl.h>

#include <system_error>

namespace coalias::http {
namespace detail {

void start(const std::shared_ptr<engine>& e, std::uint64_t id, request req, std::unique_ptr<completion> done) {
  e->start(id, std::move(req), std::move(done));
}

std::uint64_t next_id(engine& e) noexcept { return e.next_id(); }

const asio::any_io_executor& io_executor(const engine& e) noexcept { return e.io_executor(); }

void cancel(const std::weak_ptr<engine>& e, std::uint64_t id) {
  if (auto alive = e.lock()) alive->cancel(id);
}

}  // namespace detail

namespace {

void init_curl_once() {
  // Thread-safe in curl >= 7.84 ("threadsafe" feature); the static makes it once anyway.
  static const CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  if (rc != CURLE_OK) throw std::system_error(make_curl_error(rc), "curl_global_init");
}

}  // namespace

client::client(asio::any_io_executor ex, options opts) {
  init_curl_once();
  engine_ = std::make_shared<detail::engine>(std::move(ex), opts.max_connections_per_host);
}

client::~client() { engine_->shutdown(); }

client::executor_type client::get_executor() const noexcept { return engine_->io_executor(); }

std::uint64_t client::connections_opened() noexcept { return detail::connections_opened(); }

}  // namespace coalias::http
