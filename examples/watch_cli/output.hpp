// coalias-watch's output lines, one per alias change.
//
// Plain: `<status, padded to 8>  <output>  (index <n>)`, e.g.
//   critical  Aliased check "pg port" failing: refused  (index 42)
//   passing   All checks passing.  (index 43)
// Control characters in the output are shown escaped (\n, \r, \t, \xNN), so one change is always one line.
//
// JSON (--json): one object per line, keys in this order:
//   {"node":"db-1","service":"pg-1","status":"critical","output":"...","index":42}
// `service` is "" for a node alias. Strings are escaped as Go's encoding/json (and so Consul) escapes them, by the
// library's one JSON writer: bytes that are not valid UTF-8 become \ufffd, so every line is valid JSON.
//
// Thread safety: pure; any thread.
#pragma once

#include <coalias/aggregate.hpp>
#include <coalias/remote_hub.hpp>

#include <string>

namespace coalias::watch_cli {

/// One line without its newline.
std::string plain_line(const remote_evaluation& ev);
std::string json_line(const alias_target& target, const remote_evaluation& ev);

/// The --once exit status of a status: 0 passing, 1 warning, 2 critical (Consul's script-check convention).
int exit_status(status s) noexcept;

}  // namespace coalias::watch_cli
