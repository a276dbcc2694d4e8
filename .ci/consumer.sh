#!/usr/bin/env bash
# The outside-consumer check: stages an install of an existing build (default build/, which `./setup.sh test`
# built) in a temporary directory, then builds examples/quickstart.cpp and the programs in tests/consumer/ as an
# outside project, copied away from the source tree: with meson (pkg-config) and with CMake (find_package), each
# with g++ and clang++-14, and runs every program. The installed .pc and CMake files are relocatable, so a staged
# install (meson install --destdir) works as is and the build folder is not reconfigured.
#   .ci/consumer.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${1:-build}
[ -f "$build/build.ninja" ] || { echo "consumer: $build is not a meson build folder" >&2; exit 1; }

option() {  # option NAME: a configured meson option of $build
  meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
# A build folder set up before the .pc files became relocatable: switch it once (changes no compile command).
[ "$(option pkgconfig.relocatable)" = True ] || meson configure "$build" -Dpkgconfig.relocatable=true >&2

tmp=$(mktemp -d "${TMPDIR:-/tmp}/coalias-consumer.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
meson install -C "$build" --destdir "$tmp/stage" --quiet >&2
prefix=$tmp/stage$(option prefix)
libdir=$prefix/$(option libdir)
export PKG_CONFIG_PATH=$libdir/pkgconfig CMAKE_PREFIX_PATH=$prefix

# The consumer sees only the install: sources are copied, and the source tree's include/ is never on a path.
mkdir "$tmp/project"
cp tests/consumer/meson.build tests/consumer/CMakeLists.txt tests/consumer/*.cpp examples/quickstart.cpp \
   "$tmp/project/"

run() {  # run BIN: runs one program; its output goes to the log, a failure prints it
  local bin=$1
  if "$bin" >"$bin.log" 2>&1; then
    echo "  $(basename "$bin"): ok"
  else
    echo "  $(basename "$bin"): FAILED" >&2; cat "$bin.log" >&2; return 1
  fi
}

rc=0
for cxx in g++ clang++-14; do
  for tool in meson cmake; do
    out=$tmp/$tool-$cxx
    echo "consumer: $tool with $cxx"
    if [ $tool = meson ]; then
      CXX=$cxx meson setup "$out" "$tmp/project" --buildtype=debug >"$out.log" 2>&1 &&
        ninja -C "$out" >>"$out.log" 2>&1 || { echo "  build FAILED" >&2; cat "$out.log" >&2; rc=1; continue; }
    else
      cmake -S "$tmp/project" -B "$out" -G Ninja -DCMAKE_CXX_COMPILER=$cxx -DCMAKE_BUILD_TYPE=Debug \
          >"$out.log" 2>&1 &&
        cmake --build "$out" >>"$out.log" 2>&1 || { echo "  build FAILED" >&2; cat "$out.log" >&2; rc=1; continue; }
    fi
    for prog in quickstart test_server asio_first metrics; do run "$out/$prog" || rc=1; done
  done
done
[ $rc = 0 ] && echo "consumer: all builds and runs passed" || echo "consumer: FAILED" >&2
exit $rc
