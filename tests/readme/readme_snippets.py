#!/usr/bin/env python3
"""Turns the C++ snippets of README.md into one translation unit, so the test suite compiles them.

Every ```cpp block in the README must follow a marker on the line before it:

    <!-- snippet: NAME -->                          the block is the body of a coroutine
    <!-- snippet: NAME given: DECLARATIONS -->      ...which first runs DECLARATIONS (C++, to the end of the
                                                    comment) to declare what the block assumes
    <!-- snippet: NAME scope: file -->              the block is namespace-scope code

A coroutine body can use `io` (an asio::io_context&) and `ex` (its executor), as the README's snippets do, and
a line that is only `...` (an elision) is dropped. `#line` directives make compile errors point at README.md.

Usage: readme_snippets.py README.md OUTPUT.cpp [NAME-IN-ERRORS]
"""
import re
import sys

MARKER = re.compile(r"^<!--\s*snippet:\s*(?P<name>[A-Za-z0-9_-]+)(?P<scope>\s+scope:\s*\w+)?"
                    r"(?:\s+given:\s*(?P<given>.*?))?\s*-->\s*$")

PRELUDE = """\
// Generated from README.md by tests/readme/readme_snippets.py: edit the README, not this file.
#include <coalias/coalias.hpp>
#include <coalias/prometheus_metrics.hpp>  // coalias-metrics

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdio>

namespace readme {
"""


def fail(path, line, message):
    sys.exit(f"{path}:{line}: {message}")


def parse(path):
    """Yields (name, attrs, first line number, body lines) for each ```cpp block."""
    lines = open(path, encoding="utf-8").read().splitlines()
    pending = None  # (name, attrs, line number) of a marker waiting for its block
    i = 0
    while i < len(lines):
        text = lines[i]
        m = MARKER.match(text.strip())
        if text.strip().startswith("<!-- snippet") and not m:
            fail(path, i + 1, "malformed snippet marker (see tests/readme/readme_snippets.py)")
        if m:
            attrs = {"scope": (m["scope"] or "scope: coroutine").split(":")[1].strip(), "given": m["given"] or ""}
            if attrs["scope"] not in ("coroutine", "file"):
                fail(path, i + 1, "scope must be 'coroutine' or 'file'")
            pending = (m["name"], attrs, i + 1)
        elif text.startswith("```"):
            lang = text[3:].strip()
            start = i + 1
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                i += 1
            if i == len(lines):
                fail(path, start, "unterminated code block")
            if lang in ("cpp", "c++"):
                if pending is None:
                    fail(path, start, "a ```cpp block needs a '<!-- snippet: NAME -->' line before it")
                name, attrs, _ = pending
                yield name, attrs, start + 1, lines[start:i]
            elif pending is not None:
                fail(path, pending[2], f"snippet marker '{pending[0]}' is followed by a ```{lang} block")
            pending = None
        elif pending is not None and text.strip():
            fail(path, pending[2], f"snippet marker '{pending[0]}' must be followed by a ```cpp block")
        i += 1


def main():
    readme, output = sys.argv[1], sys.argv[2]
    shown = sys.argv[3] if len(sys.argv) > 3 else readme
    out = [PRELUDE]
    names = []
    for name, attrs, first, body in parse(readme):
        if name in names:
            fail(readme, first, f"duplicate snippet name '{name}'")
        names.append(name)
        body = ["" if line.strip() == "..." else line for line in body]
        ident = name.replace("-", "_")
        directive = f'#line {first} "{shown}"'
        if attrs["scope"] == "file":
            out += [f"// snippet: {name}", directive, *body, ""]
            continue
        out += [
            f"// snippet: {name}",
            f"[[maybe_unused]] asio::awaitable<void> {ident}([[maybe_unused]] asio::io_context& io) {{",
            "  [[maybe_unused]] const asio::any_io_executor ex = io.get_executor();",
            f"  {attrs['given']}",
            directive,
            *body,
            "  co_return;",
            "}",
            "",
        ]
    if not names:
        fail(readme, 1, "no C++ snippets found")
    out += ["}  // namespace readme", "",
            "// Compiling is the test; running only reports what was compiled.",
            "int main() {",
            f'  std::puts("{len(names)} README snippets compiled: {", ".join(names)}");',
            "}", ""]
    with open(output, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


if __name__ == "__main__":
    main()
