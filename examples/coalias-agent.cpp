// coalias-agent: runs the alias checks of Consul check-definition files and keeps them registered with a Consul
// agent as TTL checks.
//
//   coalias-agent --config PATH [--config PATH ...] [--addr ADDR] [--token TOKEN] [--dc DC]
//                 [--listen HOST:PORT] [--ttl DURATION] [--no-publish] [--deregister-on-exit]
//
// Argument parsing, event lines and the running set live in agent_cli/; this file is main and the life cycle.
#include "agent_cli/run.hpp"
#include "cli_common/program.hpp"

#include <csignal>
#include <cstdio>
#include <string>

namespace cli = coalias::agent_cli;

int main(int argc, char** argv) {
  const std::vector<std::string_view> args(argv + 1, argv + argc);
  cli::event_log log(stderr);
  auto parsed = cli::parse_options(args, coalias::process_environment());
  if (const auto* err = std::get_if<cli::usage_error>(&parsed)) {
    log.write(cli::error_line(err->message));
    return coalias::cli::ex_usage;
  }
  const auto& opts = std::get<cli::options>(parsed);
  if (opts.mode == cli::mode::help) {
    std::fputs(cli::usage_text().data(), stdout);
    return 0;
  }

  return coalias::cli::run_program(
      {SIGINT, SIGTERM, SIGHUP},
      [&](asio::signal_set& signals) { return cli::run(opts, signals, log); },
      [&](const std::string& what) { log.write(cli::error_line("error: " + what)); });
}
