#!/usr/bin/env bash
# Figures for `netdep report` at scale: on synthetic organisations
# (tests/synth, seed 1) of SIZES services, the wall time, CPU and peak RSS
# of the markdown and html reports (policies generated in memory, every
# environment), and the size of each file; the html graph is per namespace
# above posture.DefaultGraphLimit services.
#
#   tests/bench/report.sh                 # 1000 10000
#   SIZES=10000 tests/bench/report.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
SIZES="${SIZES:-1000 10000}"
GO="${GO:-go}"
[[ -x /usr/bin/time ]] || { echo "report.sh: /usr/bin/time is needed (Debian package time)" >&2; exit 2; }
tmp="$(mktemp -d "${TMPDIR:-/tmp}/netdep-report.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
"$GO" build -o "$tmp/netdep" ./cmd/netdep
"$GO" build -o "$tmp/synth" ./tests/synth/cmd/synth
printf '%-8s %-9s %8s %8s %9s %10s\n' services format wall_s cpu_s rss_mb bytes
for n in $SIZES; do
	"$tmp/synth" -services "$n" -out "$tmp/org-$n"
	for f in markdown html json; do
		out="$tmp/report-$n.$f"
		/usr/bin/time -f '%e %U %S %M' -o "$tmp/time" "$tmp/netdep" report "$tmp/org-$n" --format "$f" --out-file "$out" 2>/dev/null
		read -r wall user sys rss < "$tmp/time"
		printf '%-8s %-9s %8s %8.2f %9.0f %10s\n' "$n" "$f" "$wall" "$(echo "$user + $sys" | bc)" "$(echo "$rss / 1024" | bc)" "$(stat -c %s "$out")"
	done
done
