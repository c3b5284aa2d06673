#!/usr/bin/env zsh
# SPDX-License-Identifier: Apache-2.0
# check_zsh_completion.zsh IPCKIT SOURCE_DIR (ctest cli_zsh_completion): an interactive zsh in a
# pseudo-terminal (zsh/zpty) with completion/_ipckit in its fpath; each check types a line and TAB,
# then a command whose output marks the end, and looks for what the completion listed or inserted
# there: a subcommand prefix, an option of send, a URL scheme, a mechanism inside a comma list, a
# demo name, a command after "--". Waits are for the marker (the ctest TIMEOUT is the hang guard).
emulate -L zsh
setopt no_unset extended_glob
ipckit=${1:A}
source_dir=${2:A}
zmodload zsh/zpty

bindir=$(mktemp -d)
trap 'zpty -d z 2>/dev/null; rm -rf $bindir' EXIT
ln -s $ipckit $bindir/ipckit  # the binary under test is the `ipckit` on PATH

zpty z env -i HOME=$bindir PATH=$bindir:/usr/bin:/bin TERM=dumb zsh -f -i
zpty -w z "fpath=($source_dir/completion \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "LISTMAX=10000; zstyle ':completion:*' list-prompt ''; zstyle ':completion:*' menu no"
zpty -w z "PS1='ZPROMPT> '; print SETUP\$(( 1 + 1 ))"

# read_until PATTERN [SECONDS]: read the terminal into $chunk until it matches PATTERN, or give up
# after SECONDS (returns 1). zle lists completions only when no typed-ahead input is waiting, so
# each line is typed at a fresh prompt and the listing awaited before the next key.
chunk=""
read_until() {
  local out deadline=$(( EPOCHREALTIME + ${2:-20} ))
  while [[ $chunk != ${~1} ]]; do
    (( EPOCHREALTIME < deadline )) || return 1
    if zpty -r -t z out; then chunk+=$out; else sleep 0.05; fi
  done
}
zmodload zsh/datetime
read_until '*SETUP2*ZPROMPT> *' 60 || { print -u2 "cli_zsh_completion: zsh did not start:\n$chunk"; exit 1; }

failures=0
n=0
# shows LINE TEXT...: after LINE<TAB> the terminal shows every TEXT (escape sequences removed).
shows() {
  local line=$1 want shown
  shift
  (( ++n ))
  chunk=""
  zpty -w -n z "$line"$'\t'
  for want in "$@"; do
    read_until "*${(b)want}*" 10 || true
  done
  shown=${${chunk//$'\r'/}//$'\e'\[[0-9;?]#[a-zA-Z]/}
  for want in "$@"; do
    if [[ $shown != *"$want"* ]]; then
      print -u2 "FAIL: '$line<TAB>' did not show '$want'; the terminal showed:\n$shown"
      (( ++failures ))
    fi
  done
  # Clear the line and wait for the next prompt.
  chunk=""
  zpty -w z $'\C-u'"print MARK\$(( $n + 1000 ))"
  read_until "*MARK$(( n + 1000 ))*ZPROMPT> *" 20 || { print -u2 "cli_zsh_completion: no prompt after '$line'"; exit 1; }
}

shows 'ipckit s' 'send' 'stat' 'One channel or queue in detail'
shows 'ipckit send --re' '--remove-on-exit' '--ready-fd'
shows 'ipckit send ch' 'ipckit send chan:'
shows 'ipckit recv --lines mq' 'ipckit recv --lines mq:'
shows 'ipckit bench --mechanisms pipe,channel-sp' 'pipe,channel-spsc'
shows 'ipckit demo fi' 'fifo' 'file-lock'
shows 'ipckit send pipe: -- sor' 'ipckit send pipe: -- sort'

if (( failures )); then
  print -u2 "cli_zsh_completion: $failures failure(s)"
  exit 1
fi
print "cli_zsh_completion: all completions as expected"
