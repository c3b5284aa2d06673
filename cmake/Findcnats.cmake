# SPDX-License-Identifier: Apache-2.0
# Findcnats: the NATS C client (libnats), as the imported target cnats::nats, the name its upstream
# CMake package uses. Used by ipckit's own configure (cmake/IpckitNats.cmake) and installed beside
# ipckitConfig.cmake, whose find_dependency(cnats) reaches it first, so a consumer links the same way.
#
# Why a find module rather than the package config libnats-dev ships: Debian 12's
# cnats-config.cmake (libnats-dev 3.4.1) declares cnats::nats_static on libnats_static.a, which the
# package does not install, and then stops configure with a FATAL_ERROR ("references the file ... but
# this file does not exist") that QUIET cannot silence. Headers and the shared library are found
# directly (no pkg-config).
find_path(cnats_INCLUDE_DIR NAMES nats/nats.h)
find_library(cnats_LIBRARY NAMES nats)
if(cnats_INCLUDE_DIR AND EXISTS "${cnats_INCLUDE_DIR}/nats/version.h")
  file(STRINGS "${cnats_INCLUDE_DIR}/nats/version.h" _cnats_version_line REGEX "define NATS_VERSION_STRING")
  string(REGEX MATCH "[0-9]+\\.[0-9]+\\.[0-9]+" cnats_VERSION "${_cnats_version_line}")
  unset(_cnats_version_line)
endif()

include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(cnats REQUIRED_VARS cnats_LIBRARY cnats_INCLUDE_DIR VERSION_VAR cnats_VERSION)
mark_as_advanced(cnats_INCLUDE_DIR cnats_LIBRARY)

if(cnats_FOUND AND NOT TARGET cnats::nats)
  add_library(cnats::nats UNKNOWN IMPORTED)
  set_target_properties(cnats::nats PROPERTIES IMPORTED_LOCATION "${cnats_LIBRARY}"
                                               INTERFACE_INCLUDE_DIRECTORIES "${cnats_INCLUDE_DIR}")
endif()
