#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# run_deb.sh BUILD_DIR CONSUMER_DIR CXX VERSION SOVERSION (ctest install_deb): `cpack -G DEB` from
# the test's own build tree (nothing is rebuilt), then:
#   - the three packages exist, hold what they should, and carry the dependencies
#     (dpkg-shlibdeps ran; the component and -dev dependencies are there)
#   - they install with `dpkg -i` into this machine, and are purged again on every exit path
#   - the installed /usr/bin/ipckit --version, a demo program, its man page and completion files
#   - tests/install/consumer built against them with find_package(ipckit) (no prefix path, no
#     pkg-config modules) and with pkg-config, both run from the system's library directory
# Installing into the system needs root: skipped (with the reason) when not root, when dpkg or
# dpkg-shlibdeps is missing, or when an ipckit package is already installed here (it would be
# replaced, then purged).
# (No `... | grep -q` under pipefail: grep may leave before the writer is done, which then fails.)
set -euo pipefail
build_dir=$(realpath "$1")
consumer=$2
cxx=$3
version=$4
soversion=$5
runtime=libipckit$soversion
packages=(ipckit libipckit-dev "$runtime")

skip() {
  echo "install_deb skipped: $*"
  exit 0
}
[ "$(id -u)" -eq 0 ] || skip "dpkg -i needs root (the CI machine runs the tests as root)"
for tool in dpkg dpkg-deb dpkg-shlibdeps cpack; do
  command -v "$tool" >/dev/null || skip "$tool is missing (scripts/install-deps installs dpkg-dev)"
done
for p in "${packages[@]}"; do
  state=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  if [ -n "$state" ] && [ "$state" != not-installed ]; then
    skip "package $p is on this machine ($state); the test would replace and then purge it"
  fi
done

work=$(mktemp -d /tmp/ipckit-deb-test.XXXXXX)
installed=0
cleanup() {
  if [ "$installed" -eq 1 ]; then
    dpkg --purge "${packages[@]}" >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; }
  fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
  echo "FAIL: $*" >&2
  exit 1
}

# 1. The packages, from the build tree as it is.
SECONDS=0
if ! cpack -G DEB --config "$build_dir/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log" >&2
  fail "cpack -G DEB failed"
fi
cpack_s=$SECONDS
arch=$(dpkg --print-architecture)
declare -A deb
for p in "${packages[@]}"; do
  deb[$p]=$work/out/${p}_${version}_$arch.deb
  [ -f "${deb[$p]}" ] || fail "cpack made no ${p}_${version}_$arch.deb: $(ls "$work/out")"
done
field() { dpkg-deb -f "${deb[$1]}" "$2"; }
contents() { dpkg-deb -c "${deb[$1]}" | awk '{print $6}' | sed 's|^\./|/|'; }
has() {  # has PACKAGE PATH-REGEX
  local list
  list=$(contents "$1")
  grep -qE "^$2\$" <<<"$list" || fail "$1 holds no $2: $(tr '\n' ' ' <<<"$list")"
}

depends=$(field "$runtime" Depends)
[[ $depends == *"libc6 (>="* && $depends == *libfmt* ]] || fail "$runtime Depends: $depends (no dpkg-shlibdeps result)"
has "$runtime" "/usr/lib/libipckit\.so\.$soversion"
has "$runtime" "/usr/lib/libipckit\.so\.$version"
if grep -qE '/include/|\.a$|libipckit\.so$|/cmake/|\.pc$' <<<"$(contents "$runtime")"; then
  fail "$runtime holds development files: $(contents "$runtime" | tr '\n' ' ')"
fi
shlibs=$(dpkg-deb --ctrl-tarfile "${deb[$runtime]}" | tar -xO ./shlibs 2>/dev/null || true)
grep -qx "libipckit $soversion $runtime (= $version)" <<<"$shlibs" ||
  fail "$runtime has no shlibs line 'libipckit $soversion $runtime (= $version)'"

depends=$(field libipckit-dev Depends)
for want in "$runtime (= $version)" libexpected-dev libfmt-dev; do
  [[ $depends == *"$want"* ]] || fail "libipckit-dev Depends: $depends (no $want)"
done
has libipckit-dev "/usr/include/ipckit/core/result\.hpp"
has libipckit-dev "/usr/lib/libipckit\.a"
has libipckit-dev "/usr/lib/libipckit\.so"
has libipckit-dev "/usr/lib/pkgconfig/ipckit\.pc"
has libipckit-dev "/usr/lib/cmake/ipckit/ipckitConfig\.cmake"

depends=$(field ipckit Depends)
[[ $depends == *"libc6 (>="* ]] || fail "ipckit Depends: $depends (no dpkg-shlibdeps result)"
if grep -q "NEEDED.*libipckit\.so" <<<"$(readelf -d "$build_dir/ipckit")"; then
  [[ $depends == *"$runtime (= $version)"* ]] || fail "ipckit links libipckit.so but Depends: $depends"
fi
has ipckit "/usr/bin/ipckit"
has ipckit "/usr/libexec/ipckit/example_.*"
has ipckit "/usr/share/man/man1/ipckit\.1"
has ipckit "/usr/share/man/man1/ipckit-send\.1"
has ipckit "/usr/share/bash-completion/completions/ipckit"
has ipckit "/usr/share/zsh/site-functions/_ipckit"

# 2. Installed into this machine (purged by the trap, whatever happens next).
installed=1
dpkg -i "${deb[$runtime]}" "${deb[libipckit-dev]}" "${deb[ipckit]}" >"$work/dpkg.log" 2>&1 ||
  { cat "$work/dpkg.log" >&2; fail "dpkg -i failed"; }

got=$(env -u LD_LIBRARY_PATH /usr/bin/ipckit --version)
[ "$got" = "ipckit $version" ] || fail "/usr/bin/ipckit --version printed '$got'"
# A demo program from /usr/libexec/ipckit (found next to the installed tool, linked as packaged).
demo=$(cd / && env -u IPCKIT_EXAMPLES_DIR -u LD_LIBRARY_PATH /usr/bin/ipckit demo byte-stream 2>&1) ||
  fail "the installed ipckit demo byte-stream failed: $demo"
[[ $demo == *"truncated=yes"* ]] || fail "the installed ipckit demo byte-stream printed: $demo"
[ -f /usr/share/man/man1/ipckit-recv.1 ] || fail "no /usr/share/man/man1/ipckit-recv.1 after dpkg -i"
bash -c 'source /usr/share/bash-completion/completions/ipckit && complete -p ipckit' >/dev/null 2>&1 ||
  fail "the installed bash completion does not register for ipckit"

installed_s=$SECONDS

# 3. A consumer against the packages: find_package with no prefix path and no pkg-config modules,
#    then pkg-config; both run with the library from the system's directory (no LD_LIBRARY_PATH).
unset LD_LIBRARY_PATH CMAKE_PREFIX_PATH PKG_CONFIG_PATH
expect_consumer() {  # expect_consumer HOW BINARY
  local out
  out=$("$2") || fail "consumer ($1) failed: $out"
  [[ $out =~ ^ipckit\ $version\ ok\ ok\ endpoint\ c\+\+[0-9]+$ ]] || fail "consumer ($1) printed: $out"
  grep -q "NEEDED.*libipckit\.so\.$soversion" <<<"$(readelf -d "$2")" || fail "consumer ($1) does not need libipckit.so.$soversion"
}
PKG_CONFIG_LIBDIR=/nonexistent cmake -S "$consumer" -B "$work/cmake" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
  >"$work/consumer.log" 2>&1 || { cat "$work/consumer.log" >&2; fail "consumer configure (find_package) failed"; }
cmake --build "$work/cmake" >>"$work/consumer.log" 2>&1 || { cat "$work/consumer.log" >&2; fail "consumer build failed"; }
grep -q '/usr/lib/cmake/ipckit' "$work/cmake/CMakeCache.txt" || fail "find_package did not find the packaged /usr/lib/cmake/ipckit"
expect_consumer find_package "$work/cmake/consumer"

flags=$(pkg-config --cflags --libs ipckit) || fail "pkg-config --cflags --libs ipckit failed"
# shellcheck disable=SC2086
"$cxx" -std=c++20 "$consumer/main.cpp" -o "$work/consumer_pc" $flags || fail "consumer build with pkg-config ($flags) failed"
expect_consumer pkg-config "$work/consumer_pc"

# 4. Purged: nothing of them is left.
dpkg --purge "${packages[@]}" >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "dpkg --purge failed"; }
installed=0
for f in /usr/bin/ipckit /usr/include/ipckit /usr/lib/libipckit.so.$soversion /usr/lib/cmake/ipckit; do
  [ ! -e "$f" ] || fail "$f is still there after dpkg --purge"
done
echo "install_deb: ${packages[*]} built (cpack ${cpack_s} s), installed, used and purged (${SECONDS} s in all, the consumers $((SECONDS - installed_s)) s)"
