#!/usr/bin/env bash
# coalias set-up: installs whatever Debian 12 packages are missing, builds, and runs.
#   ./setup.sh demo       build (release, g++) and run the local demo
#   ./setup.sh test       build and run every test (release, g++, warnings as errors)
#   ./setup.sh sanitize   build and run every test under ASan+UBSan+LSan and under TSan (clang 14)
#   ./setup.sh bench      build and run every bench program (JSON lines on stdout)
#   ./setup.sh fuzz [S]   build the libFuzzer targets (clang) and run each for S seconds (default 10)
# Build folders (build/, build-asan/, build-tsan/) are reused between runs.
set -euo pipefail
cd "$(dirname "$0")"

packages=(g++ clang-14 lld-14 libclang-rt-14-dev meson ninja-build pkg-config cmake
          libasio-dev libcurl4-openssl-dev libssl-dev libsimdjson-dev catch2 openssl python3 nghttp2-proxy
          prometheus-cpp-dev python3-prometheus-client)

install_missing() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}" >&2
    local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
}

# configure DIR [meson options...]: set up a build folder once, reuse it afterwards.
configure() {
  local dir=$1; shift
  [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >&2
}

# run_tests DIR: runs the suite and prints the closing line CI reads ("N passed, N failed").
run_tests() {
  local dir=$1 rc=0
  ninja -C "$dir" >&2 || return 1  # callers use `||`, which turns set -e off in here
  meson test -C "$dir" --print-errorlogs --num-processes 2 || rc=$?
  python3 - "$dir/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = 0
for line in open(sys.argv[1]):
    r = json.loads(line)["result"]
    ok += r in ("OK", "EXPECTEDFAIL", "SKIP")
    bad += r not in ("OK", "EXPECTEDFAIL", "SKIP")
print(f"{sys.argv[1].split('/')[0]}: {ok} passed, {bad} failed")
PY
  return $rc
}

# run_example BIN ARGS...: the examples too must run clean under ASan, UBSan and LeakSanitizer.
run_example() {
  local bin=$1; shift
  [ -x "$bin" ] || { echo "example $bin: not built" >&2; return 1; }
  if "$bin" "$@" >/dev/null 2>"$bin.log"; then
    echo "example $(basename "$bin"): clean under sanitizers"
  else
    echo "example $(basename "$bin"): FAILED under sanitizers" >&2; cat "$bin.log" >&2; return 1
  fi
}

cmd=${1:-}
case "$cmd" in
  demo)
    install_missing
    configure build -Dwerror=true
    ninja -C build examples/coalias-demo >&2
    exec build/examples/coalias-demo "${@:2}" ;;
  test)
    install_missing
    configure build -Dwerror=true
    run_tests build ;;
  sanitize)
    install_missing
    CXX=clang++-14 configure build-asan -Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false -Dbench=false
    CXX=clang++-14 configure build-tsan -Dbuildtype=debugoptimized -Db_sanitize=thread -Db_lundef=false -Dbench=false
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1:suppressions=$PWD/tests/tsan.supp
    rc=0
    run_tests build-asan || rc=1
    run_tests build-tsan || rc=1
    run_example build-asan/examples/quickstart || rc=1
    run_example build-asan/examples/coalias-demo --step-ms 5 || rc=1
    run_example build-asan/examples/watch_cli/coalias-watch --demo || rc=1
    exit $rc ;;
  fuzz)
    install_missing
    exec bash tests/fuzz/run.sh "${2:-10}" ;;
  bench)
    install_missing
    configure build -Dwerror=true
    ninja -C build >&2
    for b in build/bench/bench_*; do [ -x "$b" ] && "$b"; done ;;
  *)
    sed -n '2,8p' "$0" >&2
    exit 64 ;;
esac
