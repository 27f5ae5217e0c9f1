#!/usr/bin/env bash
# The performance table of issue 17 in one run: every figure users feel at
# the scale of a large organisation (tests/synth, seed 1: 2-8 calls per
# service, hubs, a third of calls cross-namespace, CIDRs, three
# environments), each row with wall time, CPU seconds (user+sys) and peak
# RSS from /usr/bin/time.
#
#   tests/bench/table.sh                  # 10k services (make bench-table)
#   SIZES="10000 50000" tests/bench/table.sh   # or LARGE=1: 50k too (a few GB of disk)
#   RUNS=3 tests/bench/table.sh           # repeat each row, one line per run
#   KEEP=1 tests/bench/table.sh           # keep the temporary directory
#   SIZES=50000 ONE_NS=0 tests/bench/table.sh  # only some rows
#
# Rows: generate and verify (the tree, every environment) at each size;
# `diff --base HEAD~1 --head HEAD` at 10k (DIFF_SIZE) over a git repository
# of two commits whose second changes two lines (one call moves from one
# service to another); `generate` of 16,000 services in one namespace (the
# selector-overlap check). Figures depend on the machine and its load (the
# load average is printed first); compare CPU seconds on a busy machine.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES="${SIZES:-10000}"
if [[ -n "${LARGE:-}" ]]; then
	SIZES="10000 50000"
fi
RUNS="${RUNS:-1}"
ONE_NS="${ONE_NS:-16000}"
GO="${GO:-go}"

if [[ ! -x /usr/bin/time ]]; then
	echo "table.sh: /usr/bin/time is needed (Debian package time)" >&2
	exit 2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/netdep-table.XXXXXX")"
if [[ -z "${KEEP:-}" ]]; then
	trap 'rm -rf "$tmp"' EXIT
else
	echo "keeping $tmp"
fi

"$GO" build -o "$tmp/netdep" ./cmd/netdep
"$GO" build -o "$tmp/synth" ./tests/synth/cmd/synth
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

rows=()
# measure LABEL DIR CMD... runs CMD in DIR RUNS times under /usr/bin/time
# and records one row per run. Exit status 1 is a finding (diff: changes),
# not a failure.
measure() {
	local label=$1 dir=$2
	shift 2
	local run
	for run in $(seq "$RUNS"); do
		local rc=0
		(cd "$dir" && /usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$@" >"$tmp/stdout" 2>"$tmp/stderr") || rc=$?
		if [[ $rc -gt 1 ]]; then
			echo "table.sh: $label failed (exit $rc):" >&2
			cat "$tmp/stderr" >&2
			exit 1
		fi
		local w u s m
		# time writes "Command exited with non-zero status N" first then.
		read -r w u s m < <(tail -n 1 "$tmp/time")
		local cpu rss
		cpu=$(awk -v a="$u" -v b="$s" 'BEGIN { printf "%.2f", a + b }')
		rss=$(awk -v m="$m" 'BEGIN { printf "%d", m / 1024 }')
		printf '%-48s run %d: wall %7.2f s  cpu %7.2f s  peak RSS %6d MiB\n' "$label" "$run" "$w" "$cpu" "$rss"
		rows+=("$label|$run|$w|$cpu|$rss")
	done
}

# mutate FILE moves the first call of the first service that has two or
# more calls to the next service that has calls: one line removed, one
# added, both in one file.
mutate() {
	awk '
		{ lines[NR] = $0 }
		END {
			n = NR; from = 0; to = 0
			for (i = 1; i <= n; i++) {
				if (lines[i] !~ /^        calls:$/) continue
				k = 0
				for (j = i + 1; j <= n && lines[j] ~ /^            - /; j++) k++
				if (!from && k >= 2) { from = i + 1; continue }
				if (from && k >= 1) { to = i; break }
			}
			if (!from || !to) { print "mutate: no two services with calls" > "/dev/stderr"; exit 1 }
			for (i = 1; i <= n; i++) {
				if (i == from) continue
				print lines[i]
				if (i == to) print lines[from]
			}
		}
	' "$1" >"$1.new"
	mv "$1.new" "$1"
}

DIFF_SIZE="${DIFF_SIZE:-10000}" # the size diff --base runs at, when in SIZES
for n in $SIZES; do
	org="$tmp/org-$n"
	"$tmp/synth" -services "$n" -out "$org"
	find "$org" -type f -exec cat {} + >/dev/null
	measure "generate, $n services" "$tmp" "$tmp/netdep" generate "$org" --out "$tmp/netpol-$n" --quiet
	measure "verify, $n services x 3 envs" "$tmp" "$tmp/netdep" verify --quiet --out "$tmp/netpol-$n" "$org"
	if [[ "$n" == "$DIFF_SIZE" ]]; then
		repo="$tmp/repo-$n"
		mkdir -p "$repo"
		cp -r "$org"/. "$repo/"
		(
			cd "$repo"
			git init -q
			git -c user.name=bench -c user.email=bench@example.com add -A
			git -c user.name=bench -c user.email=bench@example.com commit -qm base
			mutate org/team-000.yaml
			git -c user.name=bench -c user.email=bench@example.com commit -qam head
		)
		changed=$(git -C "$repo" diff --numstat HEAD~1 HEAD | awk '{ a += $1; d += $2 } END { print a "+/" d "-" }')
		measure "diff --base at $n services, two lines ($changed)" "$repo" "$tmp/netdep" diff --base HEAD~1 --head HEAD org
	fi
done
if [[ "$ONE_NS" -gt 0 ]]; then
	one="$tmp/org-one-ns"
	"$tmp/synth" -services "$ONE_NS" -per-namespace "$ONE_NS" -out "$one"
	measure "generate, $ONE_NS services in one namespace" "$tmp" "$tmp/netdep" generate "$one" --out "$tmp/netpol-one-ns" --quiet
fi

echo
echo "| work | run | wall s | cpu s (user+sys) | peak RSS MiB |"
echo "| --- | ---: | ---: | ---: | ---: |"
for r in "${rows[@]}"; do
	IFS='|' read -r label run w c m <<<"$r"
	echo "| $label | $run | $w | $c | $m |"
done
