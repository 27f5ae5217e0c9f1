#!/usr/bin/env bash
# Run every fuzz target of netdep for a fixed, short time each: the loader
# alone (schema FuzzParse), the whole generate-and-verify pipeline (generator
# FuzzPipeline: load, generate, lay out, kustomize build, API-server
# validation of every policy, exactness check) and the policy decoder (eval
# FuzzDecode). go test -fuzz takes one target per run, hence the loop.
#
#   FUZZTIME=20s tests/scripts/fuzz.sh            # CI default
#   FUZZTIME=10m tests/scripts/fuzz.sh            # a longer local hunt
#
# A failure leaves the crashing input under <package>/testdata/fuzz/<Target>/;
# commit it with the fix, so it stays a regression test of plain `go test`.
set -euo pipefail
cd "$(dirname "$0")/../.."

FUZZTIME="${FUZZTIME:-20s}"
GO="${GO:-go}"

targets=(
	"./schema FuzzParse"
	"./generator FuzzPipeline"
	"./generator/eval FuzzDecode"
	"./generator/importer FuzzReadObserved"
)

for t in "${targets[@]}"; do
	read -r pkg name <<<"$t"
	echo "--- fuzz $pkg $name for $FUZZTIME"
	# A new interesting input is minimised for up to -fuzzminimizetime
	# (60 s by default) with no executions counted; when -fuzztime ends
	# during that, go test reports "context deadline exceeded" although
	# nothing failed. Short runs keep minimisation short.
	"$GO" test "$pkg" -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" -fuzzminimizetime "${FUZZMINIMIZETIME:-2s}"
done
