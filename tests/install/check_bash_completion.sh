#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# check_bash_completion.sh IPCKIT SOURCE_DIR (ctest cli_bash_completion): sources bash-completion and
# completion/ipckit.bash, checks `complete -p ipckit`, then completes lines as readline would hand
# them over and checks what is offered: a subcommand prefix, an option of send, a URL scheme, a
# mechanism name (also inside a comma list), a demo name, nothing for a numeric value, a command
# after "--". The completion reads these from IPCKIT itself (its --help, bench --list, demo).
set -uo pipefail
ipckit=$(realpath "$1")
source_dir=$2
main=/usr/share/bash-completion/bash_completion
if [ ! -r "$main" ]; then
  echo "cli_bash_completion skipped: bash-completion is not installed ($main; apt-get install bash-completion)"
  exit 0
fi
# shellcheck source=/dev/null
source "$main"
# shellcheck source=../../completion/ipckit.bash
source "$source_dir/completion/ipckit.bash"

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

spec=$(complete -p ipckit 2>&1)
[[ $spec == "complete -F _ipckit ipckit" ]] || fail "complete -p ipckit: $spec"

# A private bin directory holding only this ipckit, so the completion runs the binary under test.
bindir=$(mktemp -d)
trap 'rm -rf "$bindir"' EXIT
ln -s "$ipckit" "$bindir/ipckit"
PATH=$bindir:$PATH
# compopt works only inside a completion readline started; here it has nothing to change.
compopt() { :; }

# complete LINE: COMPREPLY for the cursor at the end of LINE (words split at blanks; LINE ending in
# a blank starts a new empty word).
complete_line() {
  COMP_LINE=$1
  COMP_POINT=${#COMP_LINE}
  read -ra COMP_WORDS <<<"$COMP_LINE"
  [[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
  COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
  COMPREPLY=()
  _ipckit ipckit "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
}
# offers LINE WORD...: completing LINE offers every WORD.
offers() {
  local line=$1 w
  shift
  complete_line "$line"
  for w in "$@"; do
    grep -qxF -- "$w" <<<"$(printf '%s\n' "${COMPREPLY[@]}")" || fail "'$line<TAB>' offers [${COMPREPLY[*]}], not $w"
  done
}
# offers_none_of LINE WORD...: completing LINE offers none of these words.
offers_none_of() {
  local line=$1 w
  shift
  complete_line "$line"
  for w in "$@"; do
    if grep -qxF -- "$w" <<<"$(printf '%s\n' "${COMPREPLY[@]}")"; then
      fail "'$line<TAB>' offers [${COMPREPLY[*]}], among them $w"
    fi
  done
}
# offers_only LINE WORD...: completing LINE offers exactly these words (none: nothing).
offers_only() {
  local line=$1
  shift
  complete_line "$line"
  [[ "${COMPREPLY[*]}" == "$*" ]] || fail "'$line<TAB>' offers [${COMPREPLY[*]}], wanted [$*]"
}

offers "ipckit s" send stat
offers_none_of "ipckit s" bench recv
offers "ipckit " bench send recv demo ls stat rm clean
offers "ipckit --v" --version
offers "ipckit send --re" --remove-on-exit --ready-fd
offers "ipckit recv --lines --cr" --create
offers "ipckit send " chan: unix: mq: sysvmq: fifo: tcp: udp: pipe:
offers_only "ipckit send --lines ch" chan:
offers_only "ipckit send --size " ""
offers "ipckit bench --mechanisms pi" pipe
offers "ipckit bench --mechanisms pipe,channel-sp" pipe,channel-spsc pipe,channel-spsc-blocking
offers "ipckit demo " fifo posix-mq pipe-dup2
offers "ipckit send pipe: -- so" sort

if [ "$failures" -ne 0 ]; then
  echo "cli_bash_completion: $failures failure(s)" >&2
  exit 1
fi
echo "cli_bash_completion: all completions as expected"
