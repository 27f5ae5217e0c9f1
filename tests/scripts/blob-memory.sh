#!/usr/bin/env bash
# Peak memory of `netdep diff --base HEAD` on a revision that holds, beside
# one dependency file, a 100 MiB YAML file without a netdep: line and a
# 100 MiB binary, as loose objects and again packed (git gc). netdep reads
# neither: sizes come from object headers, non-YAML files are skipped by
# name, and objects over 1 MiB are streamed, so the figure is bounded by
# netdep's limits (8 MiB a file), not by what the revision holds.
#
#   tests/scripts/blob-memory.sh                 # this tree
#   BEFORE=main tests/scripts/blob-memory.sh     # and netdep built at a revision
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

go build -o "$work/after" ./cmd/netdep
bins=(after)
if [ -n "${BEFORE:-}" ]; then
	mkdir "$work/src"
	git archive "$BEFORE" | tar -x -C "$work/src"
	(cd "$work/src" && go build -o "$work/before" ./cmd/netdep)
	bins=(before after)
fi

repo=$work/repo
mkdir -p "$repo/teams"
cd "$repo"
git init -q -b main
git config user.email bench@example.com
git config user.name bench
printf 'netdep: v1\nnamespace: shop\nservices:\n  cart:\n    ports: {grpc: 7070}\n' > teams/shop.yaml
yes 'kind: ConfigMap   # generated, no marker' | head -c $((100 << 20)) > teams/dump.yaml || true # yes ends on SIGPIPE
head -c $((100 << 20)) /dev/urandom > teams/image.bin
git add -A
git commit -q -m "large files"
rm teams/dump.yaml teams/image.bin

measure() {
	for b in "${bins[@]}"; do
		rc=0
		/usr/bin/time -f "%M" -o "$work/rss" "$work/$b" diff --base HEAD >/dev/null 2>"$work/err" || rc=$?
		if [ "$rc" -gt 1 ]; then
			cat "$work/err" >&2 # 0 or 1 (no change, changes) is a run that worked
		fi
		printf '%-7s %-6s peak RSS %5d MiB (exit %d)\n' "$1" "$b" $(($(tail -1 "$work/rss") / 1024)) "$rc"
	done
}
measure loose
git gc -q --aggressive >/dev/null 2>&1 || git gc -q
measure packed
