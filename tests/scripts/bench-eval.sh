#!/usr/bin/env bash
# Prints CPU seconds and peak memory of netdep's NetworkPolicy evaluator
# (generator/eval) and of cyclonus's (pkg/matcher), on the same generated
# organisations: one pod and one policy per workload, plus a default-deny
# and an allow-dns per namespace (generator/eval/evaltest.Org).
#
#   tests/scripts/bench-eval.sh               # 2,000 and 10,000 workloads
#   SIZES="500 2000" tests/scripts/bench-eval.sh
#   CYCLONUS_SAMPLE=1 tests/scripts/bench-eval.sh   # cyclonus asks every pair (slow:
#                                    # minutes); by default it asks every K-th
#                                    # source, about 200,000 pairs, and
#                                    # scales its CPU by K
#
# Each run is its own process, so peak RSS is that evaluator's (input
# included; input_rss_mib is the input alone). CPU is user+system time of
# the evaluation only, from getrusage. See tests/cyclonus/cmd/evalbench for
# what each evaluator is asked.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$root/tests/cyclonus" && go build -o "$tmp/evalbench" ./cmd/evalbench)
for n in ${SIZES:-2000 10000}; do
  "$tmp/evalbench" -impl netdep -workloads "$n"
  "$tmp/evalbench" -impl cyclonus -workloads "$n" -sample "${CYCLONUS_SAMPLE:-0}"
done
