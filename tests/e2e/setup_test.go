package e2e

import (
	"context"
	"os"
	"testing"
)

// gitopsSetup is what TestFluxGitOps and TestDeployManifests start with: skip
// unless NETDEP_E2E=1 on a host that can run the test bed (saying why), a
// context that ends before go test's timeout, cleanup on exit and on
// signals, and the tools (built by tests/scripts/e2e.sh, found in the cache).
func gitopsSetup(t *testing.T, what string) (context.Context, Binaries) {
	t.Helper()
	if os.Getenv("NETDEP_E2E") != "1" {
		t.Skipf("SKIPPED: %s runs only with NETDEP_E2E=1 (use `make e2e`; it needs root, iptables, ipset, iproute2, etcd and git: tests/e2e/setup.sh)", what)
	}
	etcd := requireHost(t)
	ctx, cancel := testContext(t)
	t.Cleanup(cancel)
	cleanupOnSignal(t)
	t.Cleanup(func() { SweepOwn(context.Background()) })
	SweepStale(ctx)
	bins, err := BuildTools(ctx, "tools", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	bins.Etcd = etcd
	return ctx, bins
}
