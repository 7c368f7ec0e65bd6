#!/usr/bin/env bash
# Formats the project's C files (common/, service/, tests/: *.c and *.h tracked by git)
# with clang-format and the style in .clang-format.
#
#   bash scripts/format.sh           rewrite the files in place
#   bash scripts/format.sh --check   change nothing; list each file that is not formatted with
#                                    the number of its lines formatting would change, and the
#                                    total; exit status 1 when there is any
#
# clang-format comes from scripts/deps.sh (group build); its version decides details of
# the output, so everyone formats with Debian 12's (14).
set -euo pipefail
cd "$(dirname "$0")/.."

check=0
case "${1:-}" in
--check) check=1 ;;
"") ;;
-h | --help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

bash scripts/deps.sh build
mapfile -t files < <(git ls-files 'common/*.[ch]' 'service/*.[ch]' 'tests/*.[ch]')

if [ "$check" = 0 ]; then
  clang-format -i --style=file "${files[@]}"
  exit 0
fi

total=0 unformatted=0
for f in "${files[@]}"; do
  # the lines of the file that formatting would replace or remove
  n=$(clang-format --style=file "$f" | diff -U0 "$f" - | grep -v '^--- ' | grep -c '^-' || true)
  if [ "$n" -gt 0 ]; then
    printf '%6d %s\n' "$n" "$f"
    total=$((total + n))
    unformatted=$((unformatted + 1))
  fi
done
echo "$total lines in $unformatted of ${#files[@]} files would change"
[ "$total" -eq 0 ]
