#!/usr/bin/env bash
# Runs the end-to-end enforcement test (tests/e2e): installs its
# prerequisites, then proves the policies on real packets with kube-router and
# kube-network-policies ($NETDEP_E2E_AGENTS picks a subset) and runs the Flux
# GitOps scenario (Flux's own controllers, tests/e2e/flux_test.go). `make e2e`
# and CI call this. Needs root; elsewhere the test skips and says why. The
# first run builds kube-apiserver, both agents and Flux's two controllers
# (minutes on two cores) into ~/.cache/netdep-e2e (or $NETDEP_E2E_CACHE);
# later runs reuse them.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [[ $(id -u) -eq 0 ]]; then
	bash tests/e2e/setup.sh
else
	echo "tests/scripts/e2e.sh: not root: not installing prerequisites; the e2e test will skip" >&2
fi

cd tests/e2e
# Build (or find cached) the tools first, outside go
# test's -timeout: a cold build takes minutes, more on a busy machine.
time go run ./cmd/e2e-tools
# One package (not ./...): go test streams -v output only then.
NETDEP_E2E=1 exec go test -count=1 -v -timeout 45m "$@" .
