# SPDX-License-Identifier: Apache-2.0
# The `docs` target: the API reference (Doxygen over include/ipckit, docs/Doxyfile.in) into
# <build>/docs/api/html. It exists in every configure; without doxygen it fails saying how to get it.
find_program(IPCKIT_DOXYGEN doxygen)
set(IPCKIT_DOCS_OUTPUT ${PROJECT_BINARY_DIR}/docs/api)
configure_file(${PROJECT_SOURCE_DIR}/docs/Doxyfile.in ${PROJECT_BINARY_DIR}/docs/Doxyfile @ONLY)
if(IPCKIT_DOXYGEN)
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E make_directory ${IPCKIT_DOCS_OUTPUT}
    COMMAND ${IPCKIT_DOXYGEN} ${PROJECT_BINARY_DIR}/docs/Doxyfile
    COMMAND ${CMAKE_COMMAND} -E echo "API reference: ${IPCKIT_DOCS_OUTPUT}/html/index.html"
    WORKING_DIRECTORY ${PROJECT_SOURCE_DIR}
    COMMENT "Doxygen: the API reference (any warning fails)"
    VERBATIM)
else()
  add_custom_target(docs
    COMMAND ${CMAKE_COMMAND} -E echo "docs: doxygen was not found: install it (scripts/install-deps, or apt-get install doxygen) and configure again"
    COMMAND ${CMAKE_COMMAND} -E false
    VERBATIM)
endif()
