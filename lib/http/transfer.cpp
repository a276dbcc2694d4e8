#include "http/transfer.hpp"

#include "http/curl_error.hpp"

#include "core/ascii.hpp"

#include <coalias/error.hpp>

#include <asio/error.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

namespace coalias::http::detail {
namespace {

bool clean(std::string_view s) { return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos; }

// RFC 9110's token: what a method may be, so nothing can be smuggled into the request line.
bool is_token(std::string_view s) {
  constexpr std::string_view extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (coalias::detail::ascii_lower(c) >= 'a' && coalias::detail::ascii_lower(c) <= 'z') || extra.find(c) != std::string_view::npos;
  });
}

// A header line's optional whitespace, and the CRLF curl leaves at its end.
std::string_view trim(std::string_view s) { return coalias::detail::trim(s, " \t\r\n"); }

// Sets options in order and keeps the first failure, so setup reads as a flat list.
class options {
 public:
  explicit options(CURL* easy) : easy_(easy) {}
  template <class T>
  options& set(CURLoption option, T value) {
    if (rc_ == CURLE_OK) rc_ = curl_easy_setopt(easy_, option, value);
    return *this;
  }
  options& set(CURLoption option, const std::string& value) { return set(option, value.c_str()); }
  CURLcode result() const { return rc_; }

 private:
  CURL* easy_;
  CURLcode rc_ = CURLE_OK;
};

struct curl_string {
  char* p = nullptr;
  ~curl_string() { curl_free(p); }
};

// Rewrites the URL's host to `name` and pins the connection to the original host:port, so curl sends
// `name` in SNI and verifies the certificate against it (Consul's `server.<dc>.consul` behind an IP).
std::error_code redirect_to_name(const std::string& url, const std::string& name, std::string& new_url, std::string& connect_to) {
  std::unique_ptr<CURLU, void (*)(CURLU*)> u(curl_url(), curl_url_cleanup);
  if (!u) return make_curl_error(CURLE_OUT_OF_MEMORY);
  curl_string host, port, out;
  if (curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_HOST, &host.p, 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_PORT, &port.p, CURLU_DEFAULT_PORT) != CURLUE_OK ||
      curl_url_set(u.get(), CURLUPART_HOST, name.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_URL, &out.p, 0) != CURLUE_OK)
    return make_curl_error(CURLE_URL_MALFORMAT);
  new_url = out.p;
  connect_to = name + ":" + port.p + ":" + host.p + ":" + port.p;
  return {};
}

// curl 7.88 copies a URL's query through its own printf, byte by byte, several times per request, and a group
// query's filter at 10,000 watched nodes is tens of kilobytes: that was the client's largest cost per answer. So the
// path and query go out as the request target (copied once), and curl parses only the short rest of the URL. A
// query curl would refuse (a space, a control byte) stays in the URL, to be refused as before.
std::string split_off_target(std::string& url) {
  const auto authority = url.find("://");
  const auto path = authority == std::string::npos ? authority : url.find('/', authority + 3);
  const auto query = path == std::string::npos ? path : url.find('?', path);
  if (query == std::string::npos) return {};
  const bool acceptable = std::none_of(url.begin() + static_cast<std::ptrdiff_t>(query), url.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return u <= 0x20 || u == 0x7f;
  });
  if (!acceptable) return {};
  std::string target = url.substr(path);
  url.resize(query);
  return target;
}

}  // namespace

transfer::transfer(std::uint64_t id, std::unique_ptr<completion> done) : id_(id), done_(std::move(done)) {}

transfer::~transfer() {
  if (easy_) curl_easy_cleanup(easy_);
  curl_slist_free_all(headers_);
  curl_slist_free_all(connect_to_);
}

std::error_code transfer::setup(request& req) {
  if (req.url.empty() || !clean(req.url) || !clean(req.tls.server_name) || req.timeout.count() < 0 ||
      !is_token(req.method))
    return errc::invalid_argument;
  const bool get = req.method == "GET", head = req.method == "HEAD";
  if ((get || head) && !req.body.empty()) return errc::invalid_argument;
  bool has_type = false;
  for (const auto& [name, value] : req.headers) {
    if (name.empty() || !clean(name) || !clean(value) || name.find(':') != std::string::npos)
      return errc::invalid_argument;
    has_type = has_type || coalias::detail::ascii_iequals(name, "Content-Type");
    // "Name;" is curl's spelling of a header with an empty value; "Name:" would remove the header.
    const std::string line = value.empty() ? name + ";" : name + ": " + value;
    curl_slist* next = curl_slist_append(headers_, line.c_str());
    if (!next) return make_curl_error(CURLE_OUT_OF_MEMORY);
    headers_ = next;
  }

  if (!get && !head && !has_type) {
    // With a body curl would say application/x-www-form-urlencoded; "Content-Type:" removes the header.
    const char* line = req.body.empty() ? "Content-Type:" : "Content-Type: application/json";
    curl_slist* next = curl_slist_append(headers_, line);
    if (!next) return make_curl_error(CURLE_OUT_OF_MEMORY);
    headers_ = next;
  }

  std::string url = req.url;
  if (!req.tls.server_name.empty()) {
    std::string entry;
    if (auto ec = redirect_to_name(req.url, req.tls.server_name, url, entry)) return ec;
    connect_to_ = curl_slist_append(nullptr, entry.c_str());
    if (!connect_to_) return make_curl_error(CURLE_OUT_OF_MEMORY);
  }

  const std::string target = split_off_target(url);
  easy_ = curl_easy_init();
  if (!easy_) return make_curl_error(CURLE_OUT_OF_MEMORY);
  max_body_ = req.max_body;
  response_.body = std::move(req.response_buffer);
  response_.body.clear();

  options o(easy_);
  o.set(CURLOPT_PRIVATE, static_cast<void*>(this))
      .set(CURLOPT_ERRORBUFFER, error_)
      .set(CURLOPT_NOSIGNAL, 1L)
      .set(CURLOPT_URL, url)
      .set(CURLOPT_PROTOCOLS_STR, "http,https")
      .set(CURLOPT_PROXY, "")  // ignore http_proxy and friends from the environment
      .set(CURLOPT_TCP_KEEPALIVE, 1L)  // long polls sit idle for minutes
      .set(CURLOPT_TIMEOUT_MS, static_cast<long>(req.timeout.count()))
      // Fails early when Content-Length already says too much; on_body catches the rest.
      .set(CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(std::min<std::uintmax_t>(
                                           req.max_body, std::numeric_limits<curl_off_t>::max())))
      .set(CURLOPT_WRITEFUNCTION, &transfer::on_body)
      .set(CURLOPT_WRITEDATA, static_cast<void*>(this))
      .set(CURLOPT_HEADERFUNCTION, &transfer::on_header)
      .set(CURLOPT_HEADERDATA, static_cast<void*>(this))
      .set(CURLOPT_SSL_VERIFYPEER, req.tls.verify ? 1L : 0L)
      .set(CURLOPT_SSL_VERIFYHOST, req.tls.verify ? 2L : 0L);
  if (get) {
    o.set(CURLOPT_HTTPGET, 1L);
  } else if (head) {
    o.set(CURLOPT_NOBODY, 1L);
  } else {
    // POSTFIELDS with an explicit size sends Content-Length even for an empty body (a PUT with none would
    // otherwise go out chunked or without a length); CUSTOMREQUEST names the method.
    body_ = req.body;
    o.set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body_.size()))
        .set(CURLOPT_POSTFIELDS, body_.c_str())
        .set(CURLOPT_CUSTOMREQUEST, req.method);
  }
  if (!target.empty()) o.set(CURLOPT_REQUEST_TARGET, target);
  if (headers_) o.set(CURLOPT_HTTPHEADER, headers_);
  if (connect_to_) o.set(CURLOPT_CONNECT_TO, connect_to_);
  if (!req.unix_socket.empty()) o.set(CURLOPT_UNIX_SOCKET_PATH, req.unix_socket);
  if (req.unix_socket.empty() && coalias::detail::ascii_lower(url.substr(0, 8)) == "https://") {
    // h2 through ALPN, and a wait for an open connection to tell whether it multiplexes, rather than a new
    // connection per transfer. Plain http stays HTTP/1.1, where waiting would only delay.
    o.set(CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS)).set(CURLOPT_PIPEWAIT, 1L);
  }
  unix_socket_ = req.unix_socket;
  if (!req.tls.ca_file.empty()) o.set(CURLOPT_CAINFO, req.tls.ca_file);
  if (!req.tls.ca_path.empty()) o.set(CURLOPT_CAPATH, req.tls.ca_path);
  if (!req.tls.cert_file.empty()) o.set(CURLOPT_SSLCERT, req.tls.cert_file);
  if (!req.tls.key_file.empty()) o.set(CURLOPT_SSLKEY, req.tls.key_file);
  if (o.result() != CURLE_OK) return make_curl_error(o.result());
  return {};
}

void transfer::finish(CURLcode code) {
  std::error_code ec;
  if (too_large_ || code == CURLE_FILESIZE_EXCEEDED) {
    ec = errc::body_too_large;
  } else if (code != CURLE_OK) {
    ec = make_curl_error(code);
    response_.error_detail = error_;
    if (code == CURLE_COULDNT_CONNECT && !unix_socket_.empty()) {
      // curl reports the URL's placeholder host ("Failed to connect to localhost port 80"): name the socket.
      long os_errno = 0;
      curl_easy_getinfo(easy_, CURLINFO_OS_ERRNO, &os_errno);
      response_.error_detail = "Failed to connect to unix socket " + unix_socket_ + ": " +
                               (os_errno != 0 ? std::generic_category().message(static_cast<int>(os_errno))
                                              : std::string(curl_easy_strerror(code)));
    }
  } else {
    curl_easy_getinfo(easy_, CURLINFO_RESPONSE_CODE, &response_.status);
  }
  done_->post(ec, std::move(response_));
}

void transfer::fail(std::error_code ec) { done_->post(ec, response{}); }

std::size_t transfer::on_body(char* data, std::size_t size, std::size_t n, void* self) {
  auto& t = *static_cast<transfer*>(self);
  const std::size_t bytes = size * n;
  if (bytes > t.max_body_ - t.response_.body.size()) {
    t.too_large_ = true;
    return 0;  // anything but `bytes` makes curl abort with CURLE_WRITE_ERROR
  }
  if (t.response_.body.empty()) {
    // One allocation for the whole body when its length is announced (a group answer is megabytes): no
    // doubling and re-faulting of pages chunk by chunk. A lying length costs nothing: append still grows.
    curl_off_t announced = -1;
    // With an eighth to spare when it must grow: a response_buffer handed back is then reused by the next answers
    // even when they are a few bytes longer (a group answer grows with each check that turns critical).
    if (curl_easy_getinfo(t.easy_, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &announced) == CURLE_OK && announced > 0 &&
        static_cast<std::uintmax_t>(announced) <= t.max_body_ &&
        static_cast<std::size_t>(announced) > t.response_.body.capacity())
      t.response_.body.reserve(static_cast<std::size_t>(announced) + static_cast<std::size_t>(announced) / 8);
  }
  t.response_.body.append(data, bytes);
  return bytes;
}

std::size_t transfer::on_header(char* data, std::size_t size, std::size_t n, void* self) {
  auto& headers = static_cast<transfer*>(self)->response_.headers;
  const std::size_t bytes = size * n;
  const std::string_view line(data, bytes);
  if (line.rfind("HTTP/", 0) == 0) {
    headers.clear();  // a new status line: the headers so far belonged to an interim 1xx response
  } else if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
    if (!headers.empty()) headers.back().second.append(" ").append(trim(line));  // obsolete line folding
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  }
  return bytes;
}

}  // namespace coalias::http::detail
