# SPDX-License-Identifier: Apache-2.0
# Script mode: install, then configure/build/run tests/install/consumer with find_package and pkg-config.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE ${PREFIX} ${WORK})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})

# 1. find_package(ipckit)
run(${CMAKE_COMMAND} -S ${CONSUMER} -B ${WORK}/cmake -G Ninja -DCMAKE_CXX_COMPILER=${CXX}
    -DCMAKE_PREFIX_PATH=${PREFIX})
run(${CMAKE_COMMAND} --build ${WORK}/cmake)
run(${WORK}/cmake/consumer)
if(NOT last_output MATCHES "ipckit [0-9]+\\.[0-9]+\\.[0-9]+ ok")
  message(FATAL_ERROR "consumer (find_package) printed: ${last_output}")
endif()

# 2. pkg-config
file(GLOB_RECURSE pc_file ${PREFIX}/ipckit.pc)
get_filename_component(pc_dir "${pc_file}" DIRECTORY)
set(ENV{PKG_CONFIG_PATH} ${pc_dir})
execute_process(COMMAND pkg-config --cflags --libs --static ipckit OUTPUT_VARIABLE flags RESULT_VARIABLE rc
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config ipckit failed")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
run(${CXX} -std=c++20 ${CONSUMER}/main.cpp -o ${WORK}/consumer_pc ${flags})
run(${WORK}/consumer_pc)
if(NOT last_output MATCHES "ipckit [0-9]+\\.[0-9]+\\.[0-9]+ ok")
  message(FATAL_ERROR "consumer (pkg-config) printed: ${last_output}")
endif()
file(REMOVE_RECURSE ${PREFIX} ${WORK})
