#!/usr/bin/env bash
# Installs what the e2e test needs on a Debian machine (CI calls it; run as
# root): iproute2 for network namespaces and veths, iptables and ipset for
# kube-router, conntrack, nftables (nft) to see whether kube-network-policies'
# own nftables table loaded (and to show it), etcd-server as the API server's
# store, git (http-backend) to serve the Flux scenario's repository.
# Idempotent and quick when everything is already there.
set -euo pipefail

need=()
command -v ip >/dev/null || need+=(iproute2)
command -v iptables-save >/dev/null || need+=(iptables)
command -v ipset >/dev/null || need+=(ipset)
command -v conntrack >/dev/null || need+=(conntrack)
command -v nft >/dev/null || need+=(nftables)
command -v etcd >/dev/null || need+=(etcd-server)
[[ -x "$(git --exec-path 2>/dev/null)/git-http-backend" ]] || need+=(git)

if ((${#need[@]})); then
	if [[ $(id -u) -ne 0 ]]; then
		echo "setup.sh: missing ${need[*]} and not root: cannot install" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
# etcd-server's package may start a system etcd where an init system runs;
# the test never uses it (its etcd runs inside the test's own namespace).
echo "e2e prerequisites: $(ip -V 2>&1 | head -1); $(iptables --version); $(ipset --version | head -1); $(nft --version); etcd $(etcd --version | awk '/etcd Version/ {print $3}'); $(git --version)"
