// coalias-watch: follows a Consul alias check from the command line, one line per change.
//
//   coalias-watch --node NODE [--service SERVICE_ID] [--addr ADDR] [--token TOKEN] [--dc DC]
//                 [--wait DURATION] [--json] [--once]
//   coalias-watch --demo
//
// Argument parsing, output lines and the demo live in watch_cli/; this file is main and the watch loop.
#include "cli_common/program.hpp"
#include "watch_cli/demo.hpp"
#include "watch_cli/options.hpp"
#include "watch_cli/output.hpp"

#include <coalias/remote_hub.hpp>

#include <asio/experimental/awaitable_operators.hpp>
#include <asio/signal_set.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <csignal>
#include <cstdio>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cli = coalias::watch_cli;

namespace {

void print_line(const std::string& line) {
  std::fputs(line.c_str(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

// Prints every change; with --once, only the first, and sets the exit status from it.
asio::awaitable<void> follow(coalias::remote_hub::watcher& watcher, const cli::options& opts, int& exit_code) {
  for (;;) {
    const auto ev = co_await watcher.async_next(asio::use_awaitable);
    print_line(opts.json ? cli::json_line(opts.target, ev) : cli::plain_line(ev));
    if (opts.once) {
      exit_code = cli::exit_status(ev.result.status);
      co_return;
    }
  }
}

// Watches until --once is satisfied or a signal arrives; the hub is always shut down before it is destroyed.
asio::awaitable<int> watch(const cli::options& opts, asio::signal_set& stop) {
  using namespace asio::experimental::awaitable_operators;
  const auto ex = co_await asio::this_coro::executor;
  coalias::remote_hub hub(ex, opts.config);
  int exit_code = 0;
  {
    coalias::remote_hub::watcher watcher(hub, opts.target, ex);
    auto following = follow(watcher, opts, exit_code);
    auto signalled = stop.async_wait(asio::use_awaitable);
    co_await (std::move(following) || std::move(signalled));  // the loser is cancelled and awaited
  }
  co_await hub.async_shutdown(asio::use_awaitable);
  co_return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  auto parsed = cli::parse_options(args, coalias::process_environment());
  if (const auto* err = std::get_if<cli::usage_error>(&parsed)) {
    std::fprintf(stderr, "%s: %s\n", cli::program_name.data(), err->message.c_str());
    return coalias::cli::ex_usage;
  }
  const auto& opts = std::get<cli::options>(parsed);
  if (opts.mode == cli::mode::help) {
    std::fputs(cli::usage_text().data(), stdout);
    return 0;
  }
  for (const auto& w : opts.warnings) std::fprintf(stderr, "%s: warning: %s\n", cli::program_name.data(), w.c_str());

  return coalias::cli::run_program(
      {SIGINT, SIGTERM},
      [&](asio::signal_set& stop) {
        return opts.mode == cli::mode::demo ? cli::run_demo(stop, stdout) : watch(opts, stop);
      },
      [](const std::string& what) { std::fprintf(stderr, "%s: error: %s\n", cli::program_name.data(), what.c_str()); });
}
