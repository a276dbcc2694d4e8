// nghttpx (Debian's nghttp2-proxy) as a real TLS HTTP/2 frontend in front of a plain-HTTP backend (the Consul
// test server), started as a child process and killed and reaped by the destructor. Like Consul's HTTPS port it
// speaks h2 through ALPN with 250 concurrent streams per connection; every stream becomes one HTTP/1.1 request
// to the backend, so the backend connection limits and the timeouts are raised above any blocking wait.
//
// The child dies with its parent thread (PR_SET_PDEATHSIG), so a crashed test never leaves it running nor keeps
// meson waiting on an inherited pipe (its stdout and stderr go to a log file; see docs/toolchain.md). Create it
// on the thread that destroys it. Throws std::runtime_error when nghttpx is missing or does not start, with the
// reason: no test framework needed, so the benches use it too.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace coalias::test {

class nghttpx {
 public:
  /// nghttpx's path: the first on PATH, then /usr/sbin and /usr/bin (Debian installs it in /usr/sbin, which a
  /// non-root PATH may lack); "" when not installed.
  static std::string find_binary() {
    std::vector<std::string> dirs;
    if (const char* path = std::getenv("PATH")) {
      std::stringstream in(path);
      for (std::string d; std::getline(in, d, ':');)
        if (!d.empty()) dirs.push_back(d);
    }
    dirs.insert(dirs.end(), {"/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"});
    for (const auto& d : dirs) {
      const std::string candidate = d + "/nghttpx";
      if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return {};
  }

  /// Listens on 127.0.0.1 (a free port) with TLS (`cert_file`, `key_file`), forwarding to 127.0.0.1:backend_port.
  nghttpx(std::uint16_t backend_port, const std::string& cert_file, const std::string& key_file) {
    binary_ = find_binary();
    if (binary_.empty())
      throw std::runtime_error(
          "nghttpx not found (on PATH, /usr/sbin, /usr/bin): install Debian's nghttp2-proxy (setup.sh lists it)");
    raise_fd_limit();
    log_ = std::filesystem::temp_directory_path() /
           ("coalias-nghttpx-" + std::to_string(::getpid()) + "-" + std::to_string(backend_port) + ".log");
    std::string last_error;
    for (int attempt = 0; attempt < 3; ++attempt) {  // another process may take the free port first
      port_ = free_port();
      if (launch(backend_port, cert_file, key_file, last_error)) return;
    }
    throw std::runtime_error("nghttpx did not start: " + last_error);
  }

  ~nghttpx() {
    stop();
    std::error_code ignored;
    std::filesystem::remove(log_, ignored);
  }

  nghttpx(const nghttpx&) = delete;
  nghttpx& operator=(const nghttpx&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  /// For consul_address::parse.
  std::string address() const { return "https://127.0.0.1:" + std::to_string(port_); }

 private:
  // nghttpx holds one backend connection per stream, and the process under test holds their other ends.
  static void raise_fd_limit() {
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
      lim.rlim_cur = lim.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &lim);
    }
  }

  static sockaddr_in loopback(std::uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
  }

  static std::uint16_t free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("nghttpx: socket() failed");
    auto a = loopback(0);
    socklen_t len = sizeof a;
    const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
                    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0;
    ::close(fd);
    if (!ok) throw std::runtime_error("nghttpx: no free port");
    return ntohs(a.sin_port);
  }

  bool accepts() const {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    const auto a = loopback(port_);
    const bool ok = ::connect(fd, reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
  }

  std::string log_text() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  bool launch(std::uint16_t backend_port, const std::string& cert_file, const std::string& key_file,
              std::string& error) {
    // Everything the child needs is built before fork: between fork and exec only async-signal-safe calls.
    const std::vector<std::string> args = {
        binary_,
        "--conf=/dev/null",  // not /etc/nghttpx/nghttpx.conf
        "--frontend=127.0.0.1," + std::to_string(port_),
        "--backend=127.0.0.1," + std::to_string(backend_port),
        "--single-process",
        "--workers=1",
        "--no-ocsp",
        "--no-via",
        "--frontend-http2-max-concurrent-streams=250",  // Consul's HTTPS listener
        "--backend-connections-per-host=1000",
        "--backend-connections-per-frontend=0",
        "--backend-read-timeout=10m",
        "--backend-write-timeout=10m",
        "--backend-keep-alive-timeout=10m",
        "--frontend-http2-read-timeout=10m",
        "--frontend-read-timeout=10m",
        "--frontend-write-timeout=10m",
        "--stream-read-timeout=0",
        "--stream-write-timeout=10m",
        "--rlimit-nofile=16384",
        "--log-level=WARN",
        "--errorlog-file=" + log_.string(),
        key_file,
        cert_file,
    };
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();

    pid_ = ::fork();
    if (pid_ < 0) {
      error = "fork failed";
      return false;
    }
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);  // the parent died before prctl
      const int null_fd = ::open("/dev/null", O_RDWR);
      const int log_fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (null_fd >= 0) {
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
      }
      if (log_fd >= 0) ::dup2(log_fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }

    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        error = "nghttpx exited (status " + std::to_string(status) + "): " + log_text();
        return false;
      }
      if (accepts()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop();
    error = "nghttpx did not accept connections within 10 s: " + log_text();
    return false;
  }

  void stop() noexcept {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

  std::string binary_;
  std::filesystem::path log_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace coalias::test
