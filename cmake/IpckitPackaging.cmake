# SPDX-License-Identifier: Apache-2.0
# Debian packages: `cpack -G DEB` in a build directory (README, "Debian packages") makes three, one
# per CPack component:
#   libipckit<major>.<minor>  component ipckit-deb-runtime   libipckit.so.<major>.<minor>(.<patch>): the
#                             package is named after the SONAME, as Debian names shared libraries
#   libipckit-dev             component ipckit-deb-dev       headers, libipckit.a, the libipckit.so
#                             link, the CMake package (ipckit::ipckit names the shared library) and
#                             ipckit.pc (the shared flavour: `pkg-config --static` adds fmt and -lrt)
#   ipckit                    component ipckit-tools          the tool, the `ipckit demo` programs
#                             (libexec/ipckit), man pages and shell completion (the same component a
#                             plain `cmake --install` installs them with, cmake/IpckitInstall.cmake)
# The two library components exist for the packages only (EXCLUDE_FROM_ALL: a plain install is the
# one cmake/IpckitInstall.cmake describes). Both libraries are built by every configure, so the
# packages hold the same files whatever IPCKIT_SHARED says; it decides only whether the tool and the
# demo programs link libipckit.so (then `ipckit` depends on libipckit<soversion>) or the static one.
# Run-time dependencies come from dpkg-shlibdeps (package dpkg-dev); the libraries' -dev packages
# the headers and ipckit.pc need are named here. CPackDeb makes PROJECT_DESCRIPTION the synopsis
# of each package, so the descriptions below are the long descriptions.
set(ipckit_soversion ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
set(ipckit_runtime_package libipckit${ipckit_soversion})

# --- libipckit<soversion>: the shared library without its link-time name --------------------------
install(TARGETS ipckit_shared EXPORT ipckit-deb-shared-targets
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT ipckit-deb-runtime
                NAMELINK_COMPONENT ipckit-deb-dev EXCLUDE_FROM_ALL)

# --- libipckit-dev ---------------------------------------------------------------------------------
install(DIRECTORY include/ipckit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} COMPONENT ipckit-deb-dev
        EXCLUDE_FROM_ALL)
install(TARGETS ipckit_static EXPORT ipckit-deb-static-targets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT ipckit-deb-dev EXCLUDE_FROM_ALL)
# The same file names ipckitConfig.cmake looks for (cmake/IpckitInstall.cmake installs the plain
# install's export sets under them); both flavours are there, so the config's order decides.
foreach(flavour static shared)
  install(EXPORT ipckit-deb-${flavour}-targets FILE ipckit-${flavour}-targets.cmake NAMESPACE ipckit::
          DESTINATION ${ipckit_cmake_dir} COMPONENT ipckit-deb-dev EXCLUDE_FROM_ALL)
endforeach()
# With libipckit.so beside libipckit.a, `-lipckit` links the shared library: the shared ipckit.pc
# and a config that prefers the shared flavour are what the package's files truly do.
install(FILES ${PROJECT_BINARY_DIR}/ipckit-shared.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
        RENAME ipckit.pc COMPONENT ipckit-deb-dev EXCLUDE_FROM_ALL)
set(IPCKIT_DEFAULT_FLAVOUR shared)
configure_package_config_file(cmake/ipckitConfig.cmake.in ${PROJECT_BINARY_DIR}/deb/ipckitConfig.cmake
                              INSTALL_DESTINATION ${ipckit_cmake_dir})
install(FILES ${PROJECT_BINARY_DIR}/deb/ipckitConfig.cmake ${PROJECT_BINARY_DIR}/ipckitConfigVersion.cmake
        DESTINATION ${ipckit_cmake_dir} COMPONENT ipckit-deb-dev EXCLUDE_FROM_ALL)
# The find module that config's find_dependency(cnats) needs (Debian 12's own cnats config is broken).
if(IPCKIT_HAVE_NATS)
  install(FILES cmake/Findcnats.cmake DESTINATION ${ipckit_cmake_dir} COMPONENT ipckit-deb-dev EXCLUDE_FROM_ALL)
endif()

# --- CPack -----------------------------------------------------------------------------------------
set(CPACK_GENERATOR DEB)
# `package_source` (which include(CPack) also defines): the tree without builds and git's files.
set(CPACK_SOURCE_GENERATOR TGZ)
set(CPACK_SOURCE_IGNORE_FILES "/build/" "/\\.git/" "/\\.git$" "\\.swp$")
set(CPACK_VERBATIM_VARIABLES ON)  # the values reach CPack as written here (no second unescaping)
set(CPACK_PACKAGE_NAME ipckit)
set(CPACK_PACKAGE_VENDOR "ipckit")
set(CPACK_RESOURCE_FILE_LICENSE ${PROJECT_SOURCE_DIR}/LICENSE)
if(NOT CPACK_PACKAGE_CONTACT)  # a packager passes -DCPACK_PACKAGE_CONTACT="Name <address>"
  set(CPACK_PACKAGE_CONTACT "ipckit maintainers")
endif()
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_GROUPING IGNORE)  # one package per component
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# The tool and the demo programs need libipckit.so from the runtime component, which is not on the
# system yet: dpkg-shlibdeps finds it in the build tree (no shlibs info there, so the dependency on
# the runtime package comes from the component dependency below).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${PROJECT_BINARY_DIR}/src)
# A shlibs file in the runtime package, so that packages built against it depend on it. "=": while
# ipckit is 0.x a minor release may break the ABI (docs/abi.md; the soname carries major.minor).
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_DEBIAN_ENABLE_COMPONENT_DEPENDS ON)  # component DEPENDS -> "pkg (= version)"

set(CPACK_COMPONENTS_ALL ipckit-deb-runtime ipckit-deb-dev)

set(CPACK_DEBIAN_IPCKIT-DEB-RUNTIME_PACKAGE_NAME ${ipckit_runtime_package})
set(CPACK_DEBIAN_IPCKIT-DEB-RUNTIME_PACKAGE_SECTION libs)
set(CPACK_DEBIAN_IPCKIT-DEB-RUNTIME_DESCRIPTION "The shared library libipckit: RAII C++20 types for every classic Linux IPC
mechanism and a lock-free shared-memory channel that survives crashed peers.")

set(CPACK_DEBIAN_IPCKIT-DEB-DEV_PACKAGE_NAME libipckit-dev)
set(CPACK_DEBIAN_IPCKIT-DEB-DEV_PACKAGE_SECTION libdevel)
set(CPACK_COMPONENT_IPCKIT-DEB-DEV_DEPENDS ipckit-deb-runtime)
# tl::expected is in the public headers (ipckit/core/result.hpp); fmt is ipckit.pc's Requires.private,
# pkg-config refuses a .pc whose modules are missing, and libipckit.a needs it at link time.
# With the nats: endpoint built in, ipckit.pc names libnats and ipckitConfig.cmake finds it
# (find_dependency(cnats)): consumers need its headers and .so link too.
if(IPCKIT_HAVE_NATS)
  set(CPACK_DEBIAN_IPCKIT-DEB-DEV_PACKAGE_DEPENDS "libexpected-dev, libfmt-dev, libnats-dev")
else()
  set(CPACK_DEBIAN_IPCKIT-DEB-DEV_PACKAGE_DEPENDS "libexpected-dev, libfmt-dev")
endif()
set(CPACK_DEBIAN_IPCKIT-DEB-DEV_DESCRIPTION "Development files of libipckit: headers, the static library, the CMake package
(find_package(ipckit)) and ipckit.pc.")

if(TARGET ipckit_cli)
  list(APPEND CPACK_COMPONENTS_ALL ipckit-tools)
  set(CPACK_DEBIAN_IPCKIT-TOOLS_PACKAGE_NAME ipckit)
  set(CPACK_DEBIAN_IPCKIT-TOOLS_PACKAGE_SECTION utils)
  if(IPCKIT_SHARED)
    set(CPACK_COMPONENT_IPCKIT-TOOLS_DEPENDS ipckit-deb-runtime)
  endif()
  set(CPACK_DEBIAN_IPCKIT-TOOLS_DESCRIPTION "The ipckit tool: send, receive, inspect and benchmark Linux IPC from the shell;
the programs `ipckit demo` runs, man pages, and bash and zsh completion.")
endif()

include(CPack)
