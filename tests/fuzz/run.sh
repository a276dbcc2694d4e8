#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) in build-fuzz and runs each for N seconds (default 10) on a
# temporary copy of its seed corpus, so the repository is not modified. Prints one line per target and exits
# non-zero if any target crashed, hung, ran out of memory or got a sanitizer report. Findings are kept under
# build-fuzz/fuzz-findings/<target>/ with the target's log.
#
#   bash tests/fuzz/run.sh [seconds] [target...]
set -u -o pipefail

secs=${1:-10}
shift || true
case $secs in ''|*[!0-9]*) echo "usage: $0 [seconds] [target...]" >&2; exit 2 ;; esac

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$root/build-fuzz
all_targets=(fuzz_health_json fuzz_catalog_json fuzz_response_meta fuzz_duration fuzz_consul_config fuzz_url_segment
             fuzz_cli_args fuzz_check_definitions fuzz_http_request)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi

# -fsanitize=fuzzer-no-link on everything gives libFuzzer coverage feedback from the library, not just from the
# fuzz target files (which alone add -fsanitize=fuzzer). Only the consul part is configured: the targets need
# nothing else, and parts under construction elsewhere in the tree cannot break this build.
if [ ! -f "$build/build.ninja" ]; then
  (cd "$root" && CXX=clang++-14 meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
      -Dbuildtype=debugoptimized -Dbench=false -Dparts=consul \
      -Dcpp_args=-fsanitize=fuzzer-no-link) || exit 1
fi
ninja_targets=()
for t in "${targets[@]}"; do ninja_targets+=("tests/fuzz/$t"); done
ninja -C "$build" -j "${FUZZ_JOBS:-2}" "${ninja_targets[@]}" >"$build/fuzz-build.log" 2>&1 || {
  cat "$build/fuzz-build.log" >&2; echo "fuzz build failed" >&2; exit 1; }

# Any sanitizer report must end the run as a crash: UBSan's checks are recoverable by default.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:detect_leaks=1:print_summary=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1:report_error_type=1}
if [ -z "${ASAN_SYMBOLIZER_PATH:-}" ] && command -v llvm-symbolizer-14 >/dev/null; then
  export ASAN_SYMBOLIZER_PATH=$(command -v llvm-symbolizer-14)
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/coalias-fuzz.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

failed=0
for t in "${targets[@]}"; do
  work=$tmp/$t
  mkdir -p "$work/corpus" "$work/artifacts"
  [ -d "$here/corpus/$t" ] && cp -R "$here/corpus/$t/." "$work/corpus/"
  "$build/tests/fuzz/$t" -max_total_time="$secs" -rss_limit_mb=512 -malloc_limit_mb=256 -timeout=5 \
      -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
  rc=$?
  runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log" | tail -n 1)
  [ -n "$runs" ] || runs=$(grep -o '^#[0-9]*' "$work/log" | tail -n 1 | tr -d '#')
  findings=$(find "$work/artifacts" -type f | wc -l)
  if grep -q -e 'ERROR: AddressSanitizer' -e 'ERROR: LeakSanitizer' -e 'runtime error:' -e 'invariant failed' \
      -e 'ERROR: libFuzzer' "$work/log" && [ "$findings" -eq 0 ]; then
    findings=1
  fi
  [ "$rc" -ne 0 ] && [ "$findings" -eq 0 ] && findings=1
  echo "$t: ${runs:-0} runs, $findings crashes"
  if [ "$findings" -ne 0 ]; then
    failed=1
    keep=$build/fuzz-findings/$t
    mkdir -p "$keep"
    cp "$work/log" "$keep/log"
    cp -R "$work/artifacts/." "$keep/" 2>/dev/null
    echo "  exit $rc; log and inputs kept in $keep" >&2
    grep -m 12 -e 'ERROR:' -e 'runtime error:' -e 'invariant failed' -e '^    #[0-9]' "$work/log" | sed 's/^/  /' >&2
  fi
done
exit $failed
