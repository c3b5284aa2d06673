# SPDX-License-Identifier: Apache-2.0
# The nats: endpoint (src/endpoint/nats_*.cpp) is built when libnats is found (Debian: libnats-dev,
# installed by scripts/install-deps). Configure never fails without it: the scheme then answers
# "built without NATS" (src/endpoint/nats_unavailable.cpp). Included by src/CMakeLists.txt, which
# passes the glob of library sources in `ipckit_sources`.
#
# Found by cmake/Findcnats.cmake (target cnats::nats; why not libnats-dev's own package config: see
# there), never pkg-config; the installed ipckitConfig.cmake finds it the same way (find_dependency).
option(IPCKIT_WITH_NATS "Build the nats: endpoint and the NATS side of ipckit bridge (needs libnats-dev)" ON)

# A cache entry so cmake/IpckitInstall.cmake (top-level scope) sees it: recomputed on every configure.
set(IPCKIT_HAVE_NATS OFF CACHE INTERNAL "libnats found: the nats: endpoint is built in")
if(IPCKIT_WITH_NATS)
  find_package(cnats MODULE QUIET)
  if(TARGET cnats::nats)
    set(IPCKIT_HAVE_NATS ON CACHE INTERNAL "libnats found: the nats: endpoint is built in")
  else()
    message(STATUS "ipckit: libnats not found (apt install libnats-dev): the nats: endpoint is built without NATS")
  endif()
endif()

if(IPCKIT_HAVE_NATS)
  list(FILTER ipckit_sources EXCLUDE REGEX "/src/endpoint/nats_unavailable\\.cpp$")
else()
  list(FILTER ipckit_sources EXCLUDE REGEX "/src/endpoint/nats_(endpoint|connection)\\.cpp$")
endif()
