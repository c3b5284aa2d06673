# SPDX-License-Identifier: Apache-2.0
# cmake --install: headers, the library, a CMake package (find_package(ipckit)) and ipckit.pc.
include(CMakePackageConfigHelpers)

install(DIRECTORY include/ipckit DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(TARGETS ipckit EXPORT ipckitTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT ipckitTargets NAMESPACE ipckit:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ipckit)
configure_package_config_file(cmake/ipckitConfig.cmake.in ${PROJECT_BINARY_DIR}/ipckitConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ipckit)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/ipckitConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/ipckitConfig.cmake ${PROJECT_BINARY_DIR}/ipckitConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/ipckit)

set(IPCKIT_PC_REQUIRES "fmt libxxhash")
# The prefix is computed from the .pc file's own location so `cmake --install --prefix P` relocates.
file(RELATIVE_PATH IPCKIT_PC_PREFIX_FROM_PCDIR ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/ipckit.pc.in ${PROJECT_BINARY_DIR}/ipckit.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/ipckit.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
if(TARGET ipckit_cli)
  install(TARGETS ipckit_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
endif()
