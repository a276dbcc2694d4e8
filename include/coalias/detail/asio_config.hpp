// Asio configuration shared by coalias and the programs that use it. Every public header that includes an Asio
// header includes this one first.
//
// Why: Asio 1.22 decides once, in <asio/detail/config.hpp>, whether `asio::awaitable` and `co_spawn` exist. With
// clang 14 and libstdc++ it looks only for <experimental/coroutine> (which libstdc++ lacks), leaves
// ASIO_HAS_CO_AWAIT undefined, and every coalias header then fails with "no template named 'awaitable'". So
// when the compiler has C++20 coroutines and <coroutine>, this turns co_await support on, with the test Asio
// itself uses for g++ (see docs/toolchain.md, pitfall 2). ASIO_STANDALONE selects the standalone Asio that
// coalias is built against, not Boost.Asio's. ASIO_DISABLE_STD_ALIGNED_ALLOC: Asio 1.22 uses aligned_alloc/free for
// its recycled handler memory only if a libstdc++ header happened to come before its first header, so translation
// units that include in different orders free with one function what another allocated with the other (ASan:
// alloc-dealloc-mismatch); one fixed choice for every unit (docs/toolchain.md, pitfall 18).
//
// These defines only work if they come before the first Asio header of the translation unit. A program that
// includes <asio.hpp> before any coalias header gets the same defines from its build system instead:
// `pkg-config --cflags coalias` and the CMake target `coalias::coalias` both pass them on the command line.
#pragma once

#ifndef ASIO_STANDALONE
#define ASIO_STANDALONE 1
#endif
#ifndef ASIO_DISABLE_STD_ALIGNED_ALLOC
#define ASIO_DISABLE_STD_ALIGNED_ALLOC 1
#endif

#if !defined(ASIO_HAS_CO_AWAIT) && !defined(ASIO_DISABLE_CO_AWAIT) && defined(__has_include)
#if (__cplusplus >= 201709L) && defined(__cpp_impl_coroutine) && (__cpp_impl_coroutine >= 201902L)
#if __has_include(<coroutine>)
#define ASIO_HAS_CO_AWAIT 1
#endif
#endif
#endif
