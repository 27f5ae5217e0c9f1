#!/usr/bin/env bash
# Figures for netdep at scale: `netdep generate` on synthetic organisations
# (tests/synth, seed 1) of 1,000, 5,000 and 10,000 services, each timed with
# /usr/bin/time -v (wall, user+sys CPU, peak RSS); the size of the largest
# kustomization and of the largest leaf of the tree, in policies; and the
# time `kubectl kustomize` takes on the largest leaves of the 10k tree; and
# at the largest size, `netdep render` of one environment and of one
# namespace, and `netdep verify` of the tree.
#
#   tests/bench/scale.sh                    # 1000 5000 10000
#   SIZES="1000 10000" RUNS=3 tests/bench/scale.sh
#   KEEP=1 tests/bench/scale.sh             # keep the temporary directory
#
# Each run writes into a directory of its own: removing a large tree just
# before writing another makes ext4 slower to allocate inodes for a while,
# which would be measured as netdep's time. Figures depend on the machine
# and its load; compare CPU seconds rather than wall time on a busy one.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZES="${SIZES:-1000 5000 10000}"
RUNS="${RUNS:-1}"
LEAVES="${LEAVES:-3}" # how many of the largest leaves kubectl renders
GO="${GO:-go}"

if [[ ! -x /usr/bin/time ]]; then
	echo "scale.sh: /usr/bin/time is needed (Debian package time)" >&2
	exit 2
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/netdep-scale.XXXXXX")"
if [[ -z "${KEEP:-}" ]]; then
	trap 'rm -rf "$tmp"' EXIT
else
	echo "keeping $tmp"
fi

echo "building netdep"
"$GO" build -o "$tmp/netdep" ./cmd/netdep
"$GO" build -o "$tmp/synth" ./tests/synth/cmd/synth

# policies DIR prints "<policies> <leaf> <dir>" for every kustomization
# under DIR: the policies it renders (a resource ending in .yaml is one
# policy, a directory is the kustomization there, recursively), and 1 if it
# is a leaf (no kustomization below it), else 0.
policies() {
	# One awk reads every kustomization (xargs would split the list into
	# several awk runs, each seeing part of the tree).
	find "$1" -name kustomization.yaml | awk '
		{
			dir = $0; sub(/\/kustomization\.yaml$/, "", dir); dirs[dir] = 1; inres = 0
			while ((getline line < $0) > 0) {
				if (line ~ /^resources:/) { inres = 1; continue }
				if (inres && line ~ /^- /) { n[dir]++; res[dir, n[dir]] = substr(line, 3); continue }
				inres = 0
			}
			close($0)
		}
		function clean(p,    parts, k, i, out, m, s) {
			k = split(p, parts, "/"); m = 0
			for (i = 1; i <= k; i++) {
				if (parts[i] == "" || parts[i] == ".") continue
				if (parts[i] == "..") { if (m > 0) m--; continue }
				out[++m] = parts[i]
			}
			s = ""
			for (i = 1; i <= m; i++) s = s "/" out[i]
			return substr(p, 1, 1) == "/" ? s : substr(s, 2)
		}
		function count(d,    i, r, total) {
			if (d in memo) return memo[d]
			total = 0
			for (i = 1; i <= n[d]; i++) {
				r = res[d, i]
				if (r ~ /\.ya?ml$/) total++
				else total += count(clean(d "/" r))
			}
			return memo[d] = total
		}
		END {
			for (d in dirs) { p = d; while (sub(/\/[^\/]+$/, "", p)) if (p in dirs) inner[p] = 1 }
			for (d in dirs) print count(d), (d in inner) ? 0 : 1, d
		}
	'
}

results=() extra=()
kubectl_leaf="" kubectl_time=""
for n in $SIZES; do
	org="$tmp/org-$n"
	"$tmp/synth" -services "$n" -out "$org"
	for run in $(seq "$RUNS"); do
		find "$org" -type f -exec cat {} + >/dev/null # the input in the page cache
		out="$tmp/netpol-$n-$run"
		/usr/bin/time -v "$tmp/netdep" generate "$org" --out "$out" --quiet 2>"$tmp/time-$n-$run" || {
			cat "$tmp/time-$n-$run" >&2
			exit 1
		}
		wall=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s }' "$tmp/time-$n-$run")
		cpu=$(awk -F': ' '/User time/ { u = $2 } /System time/ { s = $2 } END { printf "%.2f", u + s }' "$tmp/time-$n-$run")
		user=$(awk -F': ' '/User time/ { print $2 }' "$tmp/time-$n-$run")
		sys=$(awk -F': ' '/System time/ { print $2 }' "$tmp/time-$n-$run")
		rss=$(awk -F': ' '/Maximum resident set size/ { printf "%d", $2 / 1024 }' "$tmp/time-$n-$run")
		files=$(find "$out" -type f | wc -l)
		counts="$(policies "$out")"
		# The largest kustomization renders a whole environment (or the
		# base); the largest leaf is what one Argo CD Application or Flux
		# Kustomization of the per-namespace layout renders.
		largest=$(sort -rn <<<"$counts" | awk 'NR == 1' | awk -v o="$out/" '{ sub(o, "", $3); print $1, $3 }')
		leaf=$(awk '$2 == 1' <<<"$counts" | sort -rn | awk 'NR == 1' | awk -v o="$out/" '{ sub(o, "", $3); print $1, $3 }')
		printf '%6s services  run %s: wall %6.2f s  cpu %6.2f s (user %s, sys %s)  peak RSS %5d MiB  %6d files  largest kustomization %s  largest leaf %s\n' \
			"$n" "$run" "$wall" "$cpu" "$user" "$sys" "$rss" "$files" "${largest#* } (${largest%% *})" "${leaf#* } (${leaf%% *})"
		results+=("$n|$run|$wall|$cpu|$rss|$files|$largest|$leaf")
		if [[ "$n" == "$(tr ' ' '\n' <<<"$SIZES" | sort -n | awk 'END { print }')" && "$run" == 1 ]]; then
			if command -v kubectl >/dev/null; then
				slowest=0
				while read -r count _ dir; do
					start=$(date +%s.%N)
					kubectl kustomize "$dir" >/dev/null
					took=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
					echo "       kubectl kustomize ${dir#"$out"/} ($count policies): $took s"
					if awk -v a="$took" -v b="$slowest" 'BEGIN { exit !(a > b) }'; then
						slowest=$took kubectl_leaf="${dir#"$out"/} ($count policies)"
					fi
				done < <(awk '$2 == 1' <<<"$counts" | sort -rn | awk -v k="$LEAVES" 'NR <= k')
				kubectl_time=$slowest
			else
				echo "       kubectl not found: skipping the kubectl kustomize timing"
			fi
			# What generate-at-sync and CI run at this size: one
			# environment, one namespace of it, and the proof.
			leafns="${leaf##*/}"
			for cmd in "render --env prod" "render --env prod --namespace $leafns" "verify --quiet --out $out"; do
				# shellcheck disable=SC2086 # cmd is words on purpose
				/usr/bin/time -f '%e %U %S %M' -o "$tmp/time-cmd" "$tmp/netdep" $cmd "$org" >/dev/null 2>"$tmp/err-cmd" || {
					cat "$tmp/err-cmd" >&2
					exit 1
				}
				read -r w u sy m <"$tmp/time-cmd"
				printf '       netdep %s: wall %.2f s  cpu %.2f s  peak RSS %d MiB\n' "${cmd/ --out $out/}" "$w" "$(awk -v a="$u" -v b="$sy" 'BEGIN { print a + b }')" "$((m / 1024))"
				extra+=("netdep ${cmd/ --out $out/}|$w|$(awk -v a="$u" -v b="$sy" 'BEGIN { print a + b }')|$((m / 1024))")
			done
		fi
	done
done

echo
echo "| services | run | wall s | cpu s (user+sys) | peak RSS MiB | files | largest kustomization (policies) | largest leaf (policies) |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
for r in "${results[@]}"; do
	IFS='|' read -r n run wall cpu rss files largest leaf <<<"$r"
	echo "| $n | $run | $wall | $cpu | $rss | $files | ${largest#* } (${largest%% *}) | ${leaf#* } (${leaf%% *}) |"
done
if [[ -n "$kubectl_time" ]]; then
	echo
	echo "slowest leaf under kubectl kustomize: $kubectl_leaf, $kubectl_time s"
fi
if [[ ${#extra[@]} -gt 0 ]]; then
	echo
	echo "| at the largest size | wall s | cpu s | peak RSS MiB |"
	echo "| --- | ---: | ---: | ---: |"
	for r in "${extra[@]}"; do
		IFS='|' read -r what w c m <<<"$r"
		echo "| \`$what\` | $w | $c | $m |"
	done
fi
