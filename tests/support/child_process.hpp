// One run of a program under test (coalias-watch, coalias-agent): stdin from /dev/null, stdout and stderr to
// pipes, killed if the test process dies. Reads are bounded by timeouts, never by sleeps.
#pragma once

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace coalias::test {

class child_process {
 public:
  using clock_type = std::chrono::steady_clock;

  child_process(std::string binary, std::vector<std::string> args, std::vector<std::string> env) {
    int out[2], err[2];
    REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err, O_CLOEXEC) == 0);
    // Sanitizer settings from `meson test` reach the child too.
    for (const char* v : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"})
      if (const char* s = std::getenv(v)) env.push_back(std::string(v) + "=" + s);
    args.insert(args.begin(), std::move(binary));
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(null, 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::close_range(3, ~0U, 0);  // not the server's sockets, nor the pipes' other ends
      ::execve(argv[0], argv.data(), envp.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_ = out[0];
    err_ = err[0];
  }
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;

  ~child_process() {
    if (!exited_) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      ::waitpid(pid_, &st, 0);
    }
    ::close(out_);
    ::close(err_);
  }

  pid_t pid() const noexcept { return pid_; }

  /// The next stdout line without its newline; nullopt on timeout or end of output.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return next_line(out_, out_buf_, timeout);
  }
  /// The next stderr line, likewise.
  std::optional<std::string> read_err_line(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    return next_line(err_, err_buf_, timeout);
  }

  /// Exit status (or 128 + signal); -1 if still running after `timeout`.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = clock_type::now() + timeout;
    while (!exited_) {
      int st = 0;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_) {
        exited_ = true;
        exited_at_ = clock_type::now();
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        break;
      }
      if (clock_type::now() > deadline) return -1;
      std::this_thread::sleep_for(std::chrono::microseconds(100));
    }
    return status_;
  }

  /// Sends `sig` without waiting.
  void signal(int sig) { REQUIRE(::kill(pid_, sig) == 0); }

  /// Sends `sig` and returns the exit status and how long the exit took from the kill.
  std::pair<int, std::chrono::milliseconds> signal_and_wait(int sig,
                                                            std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto sent = clock_type::now();
    signal(sig);
    const int st = wait(timeout);
    return {st, std::chrono::duration_cast<std::chrono::milliseconds>(exited_at_ - sent)};
  }

  /// Everything left on stdout / stderr; call after wait().
  std::string rest_of_stdout() {
    while (fill(out_, out_buf_, std::chrono::seconds(2))) {}
    return std::exchange(out_buf_, {});
  }
  std::string all_stderr() {
    while (fill(err_, err_buf_, std::chrono::seconds(2))) {}
    return err_buf_;
  }

 private:
  static std::optional<std::string> next_line(int fd, std::string& buf, std::chrono::milliseconds timeout) {
    const auto deadline = clock_type::now() + timeout;
    for (;;) {
      if (const auto nl = buf.find('\n'); nl != std::string::npos) {
        auto line = buf.substr(0, nl);
        buf.erase(0, nl + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_type::now());
      if (left <= std::chrono::milliseconds(0) || !fill(fd, buf, left)) return std::nullopt;
    }
  }

  static bool fill(int fd, std::string& buf, std::chrono::milliseconds timeout) {
    pollfd p{fd, POLLIN, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r <= 0) return false;
    char chunk[4096];
    const auto n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) return false;
    buf.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  pid_t pid_ = -1;
  int out_ = -1, err_ = -1;
  std::string out_buf_, err_buf_;
  bool exited_ = false;
  int status_ = -1;
  clock_type::time_point exited_at_{};
};

/// `text` split at newlines (a last line without one included).
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  for (auto nl = text.find('\n'); nl != std::string::npos; nl = text.find('\n', start)) {
    out.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  if (start < text.size()) out.push_back(text.substr(start));
  return out;
}

/// A loopback port nothing listens on (bound and released at once).
inline std::uint16_t closed_port() {
  const int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

}  // namespace coalias::test
