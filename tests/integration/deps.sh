#!/usr/bin/env bash
# What a fresh Debian 12 machine needs, checked against what the scripts really run:
# every command the project's shell scripts call (parsed by shfmt, not grepped) must be a
# builtin or function, part of every Debian system (an Essential or required package), or
# declared in scripts/deps.sh with a package the scripts' group installs; once the group
# is installed, every declared program must be on PATH; and the README lists exactly the
# packages deps.sh installs. Usage: deps.sh TEST_NAME.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
DEPS=$SRC/scripts/deps.sh
FAILED=0
fail() { echo "FAIL: $*" >&2; FAILED=1; }

# The scripts of each group (scripts/deps.sh's header) and the groups whose packages they
# may use (their own, and those of the scripts they run).
scripts_of() {
  cd "$SRC"
  case $1 in
  build) git ls-files '*.sh' | grep -Ev '^(scripts/(win-|bench)|tests/integration/win_|tests/bench/)' ;;
  mingw) echo scripts/win-deps.sh ;;
  wine) git ls-files 'scripts/win-build.sh' 'tests/integration/win_*.sh' ;;
  msi) printf "%s\n" scripts/win-msi.sh scripts/win-sign.sh ;;
  bench) git ls-files 'scripts/bench.sh' 'tests/bench/*.sh' ;;
  esac
}
uses_groups() {
  case $1 in
  build) echo build ;; mingw) echo mingw ;; wine) echo "wine mingw msi" ;; msi) echo "msi mingw wine" ;;
  bench) echo "bench build" ;;
  esac
}

# "FILE COMMAND" for every literal command word in the scripts: the first word of each
# simple command, and the command that sudo / exec / nohup / setsid / xargs run.
commands_in() {
  local f
  for f in "$@"; do
    shfmt --to-json <"$SRC/$f" | jq -r --arg f "$f" '
      def lit: if (.Parts | length) == 1 and .Parts[0].Type == "Lit" then .Parts[0].Value else null end;
      [.. | objects | select(.Type == "CallExpr" and (.Args | length) > 0) | .Args | map(lit)
       | (.[0]), (if (.[0] == "sudo" or .[0] == "exec" or .[0] == "nohup" or .[0] == "setsid" or .[0] == "xargs")
                  then .[1] else empty end)]
      | map(select(. != null)) | unique | .[] | "\($f) \(.)"' ||
      fail "shfmt cannot parse $f"
  done
}
functions_in() {
  local f
  for f in "$@"; do shfmt --to-json <"$SRC/$f" | jq -r '.. | objects | select(.Type == "FuncDecl") | .Name.Value'; done
}

# The package that owns program path (Debian 12 has /bin merged into /usr/bin; dpkg
# knows one of the two names).
owner() {
  local p=$1 alt
  alt=${p/#\/usr\/bin\//\/bin\/}; alt=${alt/#\/usr\/sbin\//\/sbin\/}
  { dpkg -S "$p" 2>/dev/null || dpkg -S "$alt" 2>/dev/null || dpkg -S "$(readlink -f "$p")" 2>/dev/null; } |
    head -n1 | cut -d: -f1
}
# Part of every Debian 12 system: Essential, or priority required (mawk, mount, ...)
base_package() {
  local e
  e=$(dpkg-query -W -f='${Essential} ${Priority}' "$1" 2>/dev/null) || return 1
  [[ $e == yes* || $e == *required ]]
}

check_group() { # check_group GROUP INSTALLED(0|1)
  local g=$1 installed=$2 files=() allowed="" tools="" u f c path pkg
  mapfile -t files < <(scripts_of "$g")
  [ ${#files[@]} -gt 0 ] || { fail "group $g has no scripts"; return; }
  for u in $(uses_groups "$g"); do
    allowed="$allowed $(bash "$DEPS" --packages "$u" | tr '\n' ' ')"
    tools="$tools"$'\n'"$(bash "$DEPS" --tools "$u")"
  done
  local builtins funcs
  builtins=$(compgen -b -k | sort -u)
  funcs=$(functions_in "${files[@]}" | sort -u)
  while read -r f c; do
    case $c in */certsteward | */certsteward-worker | ./* | build/* | \$*) continue ;; esac
    case $c in */*) [[ $c == /* ]] || continue; c=${c##*/} ;; esac
    grep -qxF -- "$c" <<<"$builtins" && continue
    grep -qxF -- "$c" <<<"$funcs" && continue
    pkg=$(awk -v c="$c" '$1 == c { print $2; exit }' <<<"$tools")
    if [ -n "$pkg" ]; then
      [[ " $allowed " == *" $pkg "* ]] ||
        fail "$f runs $c, declared from package $pkg, which scripts/deps.sh does not install for $g"
      continue
    fi
    if ! path=$(command -v -- "$c"); then
      fail "$f runs $c, which is not on PATH and not declared in scripts/deps.sh (TOOLS_$g)"
      continue
    fi
    pkg=$(owner "$path")
    [ -n "$pkg" ] && base_package "$pkg" && continue
    fail "$f runs $c (${pkg:-no package}), which is not part of every Debian system: add ${pkg:-its package} to PKGS_$g and $c to TOOLS_$g in scripts/deps.sh"
  done < <(commands_in "${files[@]}" | sort -u)
  if [ "$installed" = 1 ]; then
    while read -r c pkg; do
      [ -n "$c" ] || continue
      command -v -- "$c" >/dev/null || fail "$c is not on PATH: scripts/deps.sh $g installs it (package $pkg)"
    done < <(bash "$DEPS" --tools "$g")
  fi
}

# The native build's group is installed before its tests run: declared and on PATH.
test_build_commands_are_installed() { check_group build 1; }
# The Windows tests' groups are installed by win-build.sh before its tests run.
test_windows_commands_are_installed() { check_group mingw 1; check_group wine 1; check_group msi 1; }
# The benchmark's are installed by bench.sh: here only declared.
test_bench_commands_are_declared() { check_group bench 0; }

# README's "Dependencies" lists, one per group, name exactly deps.sh's packages.
test_readme_lists_what_deps_installs() {
  local g want got
  for g in build mingw wine msi bench; do
    want=$(bash "$DEPS" --packages "$g" | sort -u | tr '\n' ' ')
    got=$(sed -n "/^<!-- deps:$g -->\$/,/^<!-- \/deps -->\$/p" "$SRC/README.md" | grep -o '`[^`]*`' | tr -d '`' |
      sort -u | tr '\n' ' ')
    [ -n "$got" ] || { fail "README.md has no list for group $g (<!-- deps:$g --> ... <!-- /deps -->)"; continue; }
    [ "$want" = "$got" ] || fail "README.md lists for $g: $got; scripts/deps.sh installs: $want"
  done
}

# A check that cannot fail proves nothing: a script calling an undeclared program and one
# calling a declared program that is missing are both caught.
test_the_check_catches_what_is_missing() {
  local tmp; tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' RETURN
  mkdir -p "$tmp/scripts" "$tmp/tests/integration"
  cp "$DEPS" "$tmp/scripts/deps.sh"
  printf '#!/bin/bash\nsurely-not-a-command-xyz --x\nfoo() { getfacl x; }\nsudo nginx -t\n' >"$tmp/scripts/t.sh"
  (cd "$tmp" && git init -q && git add -A) || { fail "git init"; return; }
  local out rc=0
  out=$(SRC=$tmp DEPS=$tmp/scripts/deps.sh bash -c "$(declare -f fail scripts_of uses_groups commands_in functions_in owner base_package check_group); FAILED=0; check_group build 0; exit \$FAILED" 2>&1) || rc=$?
  [ "$rc" != 0 ] || fail "an undeclared command passed the check"
  grep -q "scripts/t.sh runs surely-not-a-command-xyz, which is not on PATH and not declared" <<<"$out" ||
    fail "the missing command is not named: $out"
  # a declared program that is not on PATH is named with its package
  sed -i 's/^TOOLS_build="/TOOLS_build="surely-not-a-command-xyz:acl /' "$tmp/scripts/deps.sh"
  rc=0
  out=$(SRC=$tmp DEPS=$tmp/scripts/deps.sh bash -c "$(declare -f fail scripts_of uses_groups commands_in functions_in owner base_package check_group); FAILED=0; check_group build 1; exit \$FAILED" 2>&1) || rc=$?
  [ "$rc" != 0 ] || fail "a declared program missing from PATH passed the check"
  grep -q "surely-not-a-command-xyz is not on PATH: scripts/deps.sh build installs it (package acl)" <<<"$out" ||
    fail "the program missing from PATH is not named: $out"
}

name=${1:?test name}
declare -F "test_$name" >/dev/null || { echo "no test named $name" >&2; exit 2; }
"test_$name"
[ "$FAILED" = 0 ] || exit 1
echo "ok: $name"
