# SPDX-License-Identifier: Apache-2.0
# Script mode (tests/install/CMakeLists.txt): a full `cmake --install` of BUILD_DIR into a prefix
# outside SOURCE_DIR, the man pages and completion files checked there, then the installed `ipckit
# bench --html` run from another directory with SOURCE_DIR hidden (a tmpfs mounted over it in a
# private mount namespace, `unshare -m`, or `unshare -rm` without root): the page must embed
# Chart.js all the same. Skipped (with the reason) where no mount namespace can be made.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    file(REMOVE_RECURSE ${tmp})
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()
function(fail text)
  file(REMOVE_RECURSE ${tmp})
  message(FATAL_ERROR "${text}")
endfunction()

execute_process(COMMAND mktemp -d /tmp/ipckit-install-test.XXXXXX OUTPUT_VARIABLE tmp OUTPUT_STRIP_TRAILING_WHITESPACE)
file(REAL_PATH ${SOURCE_DIR} source_dir)
string(FIND "${tmp}/" "${source_dir}/" inside)
if(NOT tmp OR inside EQUAL 0)
  message(FATAL_ERROR "no scratch directory outside ${source_dir} (${tmp})")
endif()
set(prefix ${tmp}/prefix)
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
set(ipckit ${prefix}/bin/ipckit)

# The man pages (every man/*.1: ipckit.1 and one per subcommand) and the completion files, under the
# prefix where man, bash-completion and zsh look (MANDIR and DATADIR are GNUInstallDirs' relative ones).
file(GLOB man_pages RELATIVE ${SOURCE_DIR}/man ${SOURCE_DIR}/man/*.1)
list(FIND man_pages ipckit.1 top_page)
list(FIND man_pages ipckit-send.1 send_page)
if(top_page EQUAL -1 OR send_page EQUAL -1)
  fail("${SOURCE_DIR}/man has no ipckit.1 or ipckit-send.1: [${man_pages}]")
endif()
foreach(f IN LISTS man_pages)
  list(APPEND installed_files ${MANDIR}/man1/${f})
endforeach()
list(APPEND installed_files ${DATADIR}/bash-completion/completions/ipckit ${DATADIR}/zsh/site-functions/_ipckit)
foreach(f IN LISTS installed_files)
  if(NOT EXISTS ${prefix}/${f})
    fail("a plain install put no ${f} into ${prefix}")
  endif()
endforeach()

# The binary names no file of the source tree (the Chart.js path was compiled in before).
file(STRINGS ${ipckit} source_paths REGEX "${source_dir}/")
if(source_paths)
  fail("${ipckit} names the source tree: ${source_paths}")
endif()

# sh SCRIPT SOURCE_DIR WORKDIR IPCKIT: hide the source tree, prove it, run the bench from WORKDIR.
# (A file, not sh -c: CMake would split the text at its semicolons.)
file(WRITE ${tmp}/hide-source-and-run.sh [=[
set -e
mount -t tmpfs -o size=64k,mode=0700 ipckit-install-test "$1"
if [ -e "$1/third_party/chartjs/chart.umd.min.js" ]; then echo "source tree still visible" >&2; exit 3; fi
cd "$2"
unset IPCKIT_CHART_JS
exec "$3" bench --mechanisms memcpy --sizes 64 --duration 20ms --repeats 1 --html "$2/report.html"
]=])
file(MAKE_DIRECTORY ${tmp}/run)
set(unshare "")
foreach(candidate "unshare;-m" "unshare;-r;-m")
  execute_process(COMMAND ${candidate} true RESULT_VARIABLE rc OUTPUT_QUIET ERROR_QUIET)
  if(rc EQUAL 0)
    set(unshare ${candidate})
    break()
  endif()
endforeach()
if(NOT unshare)
  file(REMOVE_RECURSE ${tmp})
  message("install_bench_html skipped: neither `unshare -m` (root) nor `unshare -rm` (user namespaces) works here, so the source tree cannot be hidden")
  return()
endif()
run(${unshare} sh ${tmp}/hide-source-and-run.sh ${source_dir} ${tmp}/run ${ipckit})
if(NOT EXISTS ${tmp}/run/report.html)
  fail("the installed ipckit wrote no ${tmp}/run/report.html:\n${last_output}")
endif()
file(READ ${tmp}/run/report.html html)
string(LENGTH "${html}" html_length)
if(NOT html MATCHES "Chart\\.js v4\\.5\\.1" OR html_length LESS 200000)
  fail("report.html (${html_length} bytes) does not embed Chart.js 4.5.1")
endif()
file(REMOVE_RECURSE ${tmp})
