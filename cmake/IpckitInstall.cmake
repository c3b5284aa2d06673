# SPDX-License-Identifier: Apache-2.0
# cmake --install: headers, the library, a CMake package (find_package(ipckit)) and ipckit.pc.
#
# A plain `cmake --install BUILD` installs the library IPCKIT_SHARED names (static by default) with
# the ipckit.pc and CMake targets that fit it. Both libraries are built by every configure, so the
# other one can be installed from the same build as a component instead:
#   cmake --install BUILD --prefix P --component ipckit-devel     headers, CMake package config
#   cmake --install BUILD --prefix P --component ipckit-static    libipckit.a + its targets + ipckit.pc
#   cmake --install BUILD --prefix P --component ipckit-shared    libipckit.so.0.1 + ... (same)
# (tests/install does this to check both flavours from the release build). Install one flavour into
# a prefix: ipckit.pc describes the last one installed there.
include(CMakePackageConfigHelpers)

set(ipckit_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/ipckit)
install(DIRECTORY include/ipckit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT ipckit-devel)

# ipckit.pc. Cflags carry no -std=: C++20 is a minimum (README), and forcing -std=c++20 would
# silently downgrade a C++23 consumer. tl::expected is header-only with no .pc in Debian, so it is
# not listed. The prefix is computed from the .pc file's own location so `--prefix P` relocates.
file(RELATIVE_PATH IPCKIT_PC_PREFIX_FROM_PCDIR ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})

foreach(flavour static shared)
  if(flavour STREQUAL "shared")
    set(is_default ${IPCKIT_SHARED})
    # libipckit.so records its own dependencies (DT_NEEDED): a dynamic link needs only -lipckit.
    set(IPCKIT_PC_REQUIRES "")
    set(IPCKIT_PC_REQUIRES_PRIVATE "fmt")
    set(IPCKIT_PC_LIBS "-L\${libdir} -lipckit -pthread")
    set(IPCKIT_PC_LIBS_PRIVATE "-lrt")
  else()
    if(IPCKIT_SHARED)
      set(is_default OFF)
    else()
      set(is_default ON)
    endif()
    # libipckit.a records nothing: its dependencies go on every link line, --static or not
    # (Requires.private / Libs.private would reach only `pkg-config --static` users).
    set(IPCKIT_PC_REQUIRES "fmt")
    set(IPCKIT_PC_REQUIRES_PRIVATE "")
    set(IPCKIT_PC_LIBS "-L\${libdir} -lipckit -pthread -lrt")
    set(IPCKIT_PC_LIBS_PRIVATE "")
  endif()
  # --- NATS (cmake/IpckitNats.cmake): libnats is a dependency like fmt when the nats: endpoint is built in.
  if(IPCKIT_HAVE_NATS)
    if(flavour STREQUAL "shared")
      string(APPEND IPCKIT_PC_REQUIRES_PRIVATE " libnats")
    else()
      string(APPEND IPCKIT_PC_REQUIRES " libnats")
    endif()
  endif()
  # --- end NATS
  set(exclude "")
  if(NOT is_default)
    set(exclude EXCLUDE_FROM_ALL)
  endif()
  install(TARGETS ipckit_${flavour} EXPORT ipckit-${flavour}-targets
          ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT ipckit-${flavour} ${exclude}
          LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT ipckit-${flavour}
                  NAMELINK_COMPONENT ipckit-${flavour} ${exclude})
  install(EXPORT ipckit-${flavour}-targets NAMESPACE ipckit:: DESTINATION ${ipckit_cmake_dir}
          COMPONENT ipckit-${flavour} ${exclude})
  configure_file(cmake/ipckit.pc.in ${PROJECT_BINARY_DIR}/ipckit-${flavour}.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/ipckit-${flavour}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
          RENAME ipckit.pc COMPONENT ipckit-${flavour} ${exclude})
endforeach()

if(IPCKIT_SHARED)
  set(IPCKIT_DEFAULT_FLAVOUR shared)
else()
  set(IPCKIT_DEFAULT_FLAVOUR static)
endif()
configure_package_config_file(cmake/ipckitConfig.cmake.in ${PROJECT_BINARY_DIR}/ipckitConfig.cmake
                              INSTALL_DESTINATION ${ipckit_cmake_dir})
# 0.x: a minor release may break the API and ABI (docs/abi.md), so only the same minor matches.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ipckitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ipckitConfig.cmake ${PROJECT_BINARY_DIR}/ipckitConfigVersion.cmake
        DESTINATION ${ipckit_cmake_dir} COMPONENT ipckit-devel)
# --- NATS: the find module ipckitConfig.cmake's find_dependency(cnats) uses (cmake/Findcnats.cmake).
if(IPCKIT_HAVE_NATS)
  install(FILES cmake/Findcnats.cmake DESTINATION ${ipckit_cmake_dir} COMPONENT ipckit-devel)
endif()
# --- end NATS

if(TARGET ipckit_cli)
  install(TARGETS ipckit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT ipckit-tools)
endif()

# --- man pages and shell completion (component ipckit-tools, so also in the `ipckit` .deb) ---------
# The pages are generated from `ipckit --help` by scripts/gen-man and committed (man/*.1), so a build
# needs no generator; tests/install/check_man_pages.sh fails when they no longer match --help.
# Completion files go where bash-completion and zsh look under the prefix (never a path asked of
# pkg-config, which would name the system's directory, not this prefix).
if(TARGET ipckit_cli)
  file(GLOB ipckit_man_pages CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/man/*.1)
  install(FILES ${ipckit_man_pages} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT ipckit-tools)
  install(FILES completion/ipckit.bash DESTINATION ${CMAKE_INSTALL_DATADIR}/bash-completion/completions
          RENAME ipckit COMPONENT ipckit-tools)
  install(FILES completion/_ipckit DESTINATION ${CMAKE_INSTALL_DATADIR}/zsh/site-functions
          COMPONENT ipckit-tools)
endif()
