# SPDX-License-Identifier: Apache-2.0
# Warning and sanitizer flags for ipckit's own targets (never applied to dependencies).
add_library(ipckit_warnings INTERFACE)
target_compile_options(ipckit_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  # GCC 12 at -O3 reports -Wrestrict and -Wstringop-overflow inside libstdc++'s std::string for
  # ordinary concatenations (GCC PR 105329, PR 106199): false positives we cannot fix in our code.
  target_compile_options(ipckit_warnings INTERFACE -Wno-restrict -Wno-stringop-overflow)
endif()
if(IPCKIT_WERROR)
  target_compile_options(ipckit_warnings INTERFACE -Werror)
endif()

if(IPCKIT_SANITIZE)
  # Applied globally so that the library, tests and tools agree on the instrumented runtime.
  # -g1: line tables and function names, enough for symbolised sanitizer reports; full debug info
  # made the ASan build (about 90 test programs, each linked statically) the slowest CI step.
  add_compile_options(-fsanitize=${IPCKIT_SANITIZE} -fno-omit-frame-pointer -g1)
  add_link_options(-fsanitize=${IPCKIT_SANITIZE})
  if(IPCKIT_SANITIZE MATCHES "undefined")
    add_compile_options(-fno-sanitize-recover=undefined)
  endif()
endif()

# ipckit_target_defaults(target): our warning set; used by every target we own.
function(ipckit_target_defaults target)
  target_link_libraries(${target} PRIVATE $<BUILD_INTERFACE:ipckit_warnings>)
endfunction()
