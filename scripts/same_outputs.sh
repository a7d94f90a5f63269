#!/usr/bin/env bash
# Every command's output on sample_data, at REV and in the working tree, compared byte for byte.
#   scripts/same_outputs.sh 028c7dd        # prints the differences; exit 1 if there are any
# Terminal tables are rendered 160 columns wide without colour, as when piped.
set -u
rev=${1:?give a git revision to compare with}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'git -C "$root" worktree remove --force "$work/base" >/dev/null 2>&1; rm -rf "$work"' EXIT
git -C "$root" worktree add --detach --quiet "$work/base" "$rev"

capture() {  # capture SRC_ROOT OUTDIR
  local src=$1 out=$2 home
  mkdir -p "$out"; home=$(mktemp -d -p "$work")
  run() {
    local name=$1; shift
    (cd "$home" && PYTHONPATH="$src/src" COLUMNS=160 NO_COLOR=1 python -m csops_cli "$@" \
      >"$out/$name.out" 2>"$out/$name.err"; echo "exit $?" >>"$out/$name.err")
  }
  local data=$root/sample_data
  run health_table health "$data" --no-save --history h.db
  run health_csv health "$data" --format csv --no-save --history h.db
  run health_json health "$data" --format json --no-save --history h.db
  run health_save health "$data" --as-of 2026-11-13 --history h.db --format csv
  run health_change health "$data" --history h.db --no-save --format csv
  run health_filtered health "$data" --segment SMB --owner "Lucas Moreau" --no-save --history h.db
  run explain explain A00219 "$data" --history h.db
  run explain_json explain A00219 "$data" --history h.db --format json
  run metrics metrics "$data"
  run metrics_json metrics "$data" --format json
  run metrics_csv metrics "$data" --format csv
  run metrics_owner metrics "$data" --by owner --format csv
  run plays plays "$data" --dry-run --history h.db
  run plays_csv plays "$data" --dry-run --history h.db --format csv
  run plays_json plays "$data" --dry-run --history h.db --format json
  run plays_hubspot plays "$data" --dry-run --history h.db --format csv --target hubspot
  run plays_salesforce plays "$data" --dry-run --history h.db --format csv --target salesforce
  run renewals renewals "$data" --history h.db
  run renewals_csv renewals "$data" --history h.db --format csv --days 60
  run renewals_json renewals "$data" --history h.db --format json --segment SMB
  run audit audit "$data"
  run audit_json audit "$data" --format json
  run audit_csv audit "$data" --format csv
  run coverage coverage "$data" --history h.db
  run coverage_json coverage "$data" --history h.db --format json
  run coverage_csv coverage "$data" --history h.db --format csv
  run validate validate "$data"
  run help --help
  for command in health explain metrics plays renewals audit coverage validate init sample; do
    run "help_$command" "$command" --help
  done
  run sample sample "$home/generated" --accounts 20 --seed 3 --as-of 2026-01-01
  (cd "$home/generated" && sha256sum ./*) >"$out/sample_files.txt"
  sed -i "s#$home#HOME#g" "$out"/*
}

capture "$work/base" "$work/before"
capture "$root" "$work/after"
diff -r "$work/before" "$work/after" && echo "same output for every command"
