// Command e2e-tools builds (or finds in the cache) the upstream programs the
// e2e test runs, and prints their paths. tests/scripts/e2e.sh runs it before the test
// so that a cold build, minutes long, is not bounded by go test's -timeout.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/netdep/netdep/tests/e2e"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	paths, err := e2e.BuildTools(ctx, "tools", func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "e2e-tools: "+format+"\n", args...)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e-tools:", err)
		os.Exit(1)
	}
	fmt.Printf("kube-apiserver %s\nkube-router %s\nkube-network-policies %s\nnetwork-policy-api CRDs %s\nflux-source-controller %s\nflux-kustomize-controller %s\n",
		paths.KubeAPIServer, paths.KubeRouter, paths.KubeNetworkPolicies, paths.NetworkPolicyAPICRDs, paths.FluxSource, paths.FluxKustomize)
}
