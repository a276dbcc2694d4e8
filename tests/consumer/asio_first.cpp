// Asio before coalias: the Asio defines must then come from the build system (pkg-config's Cflags or the CMake
// target), because coalias/detail/asio_config.hpp comes too late. Exits 0 when a coroutine ran.
#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/this_coro.hpp>

#include <coalias/coalias.hpp>

#include <exception>

int main() {
  asio::io_context io;
  coalias::local_state agent("node-1");  // the coalias headers compiled; the coroutine shows co_await is on
  bool ran = false;
  auto body = [&]() -> asio::awaitable<void> {
    co_await asio::this_coro::executor;
    ran = true;
  };
  asio::co_spawn(io, body, [](std::exception_ptr e) {
    if (e) std::rethrow_exception(e);
  });
  io.run();
  return ran ? 0 : 1;
}
