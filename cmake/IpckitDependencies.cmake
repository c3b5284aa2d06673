# SPDX-License-Identifier: Apache-2.0
# Every dependency comes from a Debian package (scripts/install-deps installs them).
# The library itself needs only these three (and librt); everything below is for the bench, the tool
# and the tests, never a dependency of an installed libipckit's consumers.
find_package(Threads REQUIRED)
find_package(tl-expected REQUIRED)
find_package(fmt REQUIRED)
if(IPCKIT_BUILD_TOOLS OR IPCKIT_BUILD_BENCH OR IPCKIT_BUILD_TESTS)
  # xxh3: the hash every benchmark message carries (bench engine, micro-benchmarks, test support).
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
endif()

if(IPCKIT_BUILD_TOOLS OR IPCKIT_BUILD_BENCH)
  find_package(CLI11 REQUIRED)
  find_package(nlohmann_json REQUIRED)
endif()
if(IPCKIT_BUILD_TESTS)
  find_package(GTest REQUIRED)
  pkg_check_modules(SECCOMP IMPORTED_TARGET libseccomp)
endif()
if(IPCKIT_BUILD_BENCH)
  find_package(benchmark QUIET)
endif()
