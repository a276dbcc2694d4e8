#include "program.hpp"

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <exception>

namespace coalias::cli {

int run_program(std::initializer_list<int> signal_numbers,
                const std::function<asio::awaitable<int>(asio::signal_set&)>& body,
                const std::function<void(const std::string&)>& report) {
  int exit_code = ex_software;
  try {
    asio::io_context io(1);
    asio::signal_set signals(io);
    for (const int s : signal_numbers) signals.add(s);
    asio::co_spawn(io, body(signals), [&](std::exception_ptr e, int code) {
      if (!e) {
        exit_code = code;
        return;
      }
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& x) {
        report(x.what());
      }
    });
    io.run();
  } catch (const std::exception& x) {
    report(x.what());
    return ex_software;
  }
  return exit_code;
}

}  // namespace coalias::cli
