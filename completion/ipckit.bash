# SPDX-License-Identifier: Apache-2.0
# bash completion for ipckit (needs bash-completion). Installed as
# share/bash-completion/completions/ipckit; to try it from a checkout: source completion/ipckit.bash
#
# Everything it offers is read from the ipckit being completed, when it is needed (and remembered
# for the shell session), so a new subcommand, option, URL scheme, mechanism or demo appears
# without an edit here:
#   subcommands         the "Subcommands:" block of `ipckit --help`
#   options             the "Options:" block of `ipckit SUB --help` (an option followed by a word
#                       before its description, such as "--size SIZE", takes a value)
#   URL schemes         the "URLs" block of `ipckit --help` ("chan:/name" -> chan:)
#   --mechanisms        the first column of `ipckit bench --list` (comma-separated lists too)
#   demo names          the first column of `ipckit demo`
# After "--" (send/recv pipe: -- CMD ARGS) it completes a command line.

# The outputs are remembered per command line for the shell session (ipckit takes tens of
# milliseconds to start); _ipckit_load fills the cache and must run in the completion's own shell,
# not in a $(...) or a pipeline, whose changes are lost. A new ipckit binary: start a new shell.
declare -gA _ipckit_cache 2>/dev/null || declare -A _ipckit_cache
_ipckit_load() {  # BIN ARGS...
  local key="$*"
  if [[ -z ${_ipckit_cache[$key]+set} ]]; then
    _ipckit_cache[$key]=$("$@" 2>/dev/null)
  fi
}
_ipckit_text() {  # BIN ARGS...: the output of `BIN ARGS...`
  _ipckit_load "$@"
  printf '%s\n' "${_ipckit_cache[$*]}"
}

_ipckit_subcommands() {  # BIN
  _ipckit_text "$1" --help | awk '/^Subcommands:/ {on = 1; next} on && /^$/ {exit} on && /^  [a-z]/ {print $1}'
}

# _ipckit_options BIN [SUB]: "NAME" or "NAME VALUE" per option (-x and --long forms, one a line).
_ipckit_options() {
  local bin=$1
  shift
  _ipckit_text "$bin" "$@" --help | awk '
    /^[A-Z][A-Za-z ]*:$/ {on = ($0 == "Options:"); next}
    on && /^  +-/ {
      spec = $0; sub(/^ +/, "", spec); sub(/  .*/, "", spec)  # the description follows 2+ blanks
      split(spec, w, " ")
      value = (w[2] != "") ? " " w[2] : ""
      n = split(w[1], names, ",")
      for (i = 1; i <= n; i++) if (names[i] ~ /^-/) print names[i] value
    }'
}

_ipckit_schemes() {  # BIN: "chan:" ... from the URLs block
  _ipckit_text "$1" --help | awk '/^URLs/ {on = 1; next} on && /^[^ ]/ {exit}
    on && /^  [a-z]/ { if (match($1, /^[a-z][a-z0-9-]*:/)) print substr($1, 1, RLENGTH) }' | sort -u
}

_ipckit_first_column() {  # BIN ARGS...: the first word of each line of `BIN ARGS...`
  _ipckit_text "$@" | awk '$1 ~ /^[a-z0-9][a-z0-9._-]*$/ {print $1}'
}

_ipckit() {
  local cur prev words cword
  _init_completion -n =: || return  # keep "chan:/x" and "--opt=x" one word
  local bin=${words[0]}
  bin=${bin/#\~/$HOME}
  _ipckit_load "$bin" --help

  # The subcommand, and a "--" that ends ipckit's own arguments.
  local sub="" i subs
  subs=" $(_ipckit_subcommands "$bin" | tr '\n' ' ') "
  for ((i = 1; i < cword; i++)); do
    if [[ ${words[i]} == "--" ]]; then
      _command_offset $((i + 1))
      return
    fi
    if [[ -z $sub && ${words[i]} != -* && $subs == *" ${words[i]} "* ]]; then
      sub=${words[i]}
    fi
  done

  local options
  _ipckit_load "$bin" ${sub:+"$sub"} --help
  options=$(_ipckit_options "$bin" ${sub:+"$sub"})

  # The value of an option that takes one.
  local value_kind
  value_kind=$(awk -v o="$prev" '$1 == o && NF > 1 {print $2}' <<<"$options")
  if [[ -n $value_kind && $cur != -* ]]; then
    case $prev in
      --mechanisms)
        local done_part="" last=$cur
        if [[ $cur == *,* ]]; then
          done_part=${cur%,*},
          last=${cur##*,}
        fi
        local m
        _ipckit_load "$bin" bench --list
        COMPREPLY=()
        for m in $(_ipckit_first_column "$bin" bench --list); do
          [[ $m == "$last"* ]] && COMPREPLY+=("$done_part$m")
        done
        compopt -o nospace
        ;;
      *)
        # A TEXT value is often a file (--json, --csv, --html), and so is a "A.json"; numbers,
        # sizes and durations have nothing to complete.
        [[ $value_kind == TEXT || $value_kind == *.* ]] && _filedir
        ;;
    esac
    return
  fi

  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(awk '{print $1}' <<<"$options")" -- "$cur")
    return
  fi
  if [[ -z $sub ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
    return
  fi

  # Positional arguments.
  case $sub in
    demo)
      _ipckit_load "$bin" demo
      mapfile -t COMPREPLY < <(compgen -W "$(_ipckit_first_column "$bin" demo)" -- "$cur")
      ;;
    *)
      # Subcommands whose help names a URL take one: a scheme, then a path for path schemes.
      local usage
      usage=$(_ipckit_text "$bin" "$sub" --help | grep -i '^Usage:')
      [[ ${usage,,} == *" url"* ]] || return
      if [[ $cur == *:/* ]]; then
        local scheme=${cur%%:*}: path=${cur#*:}
        mapfile -t COMPREPLY < <(compgen -f -- "$path")
        local j
        for j in "${!COMPREPLY[@]}"; do
          [[ -d ${COMPREPLY[j]} ]] && COMPREPLY[j]+=/
          COMPREPLY[j]=$scheme${COMPREPLY[j]}
        done
        compopt -o nospace
      else
        mapfile -t COMPREPLY < <(compgen -W "$(_ipckit_schemes "$bin")" -- "$cur")
        compopt -o nospace
      fi
      __ltrim_colon_completions "$cur"
      ;;
  esac
}
complete -F _ipckit ipckit
