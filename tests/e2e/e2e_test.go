package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestEnforcement is the proof on real packets: for every scenario, each
// unmodified agent (kube-router, then kube-network-policies) enforces the
// policies, given through a real API server, between real network
// namespaces; every flow is probed and held to the oracles, and the agents'
// verdicts are held to each other. $NETDEP_E2E_AGENTS (comma-separated
// names) runs a subset.
//
// It runs only with NETDEP_E2E=1 (make e2e), as root, with iptables, ipset,
// nftables, conntrack, iproute2 and etcd installed (setup.sh). Otherwise it
// skips and says why.
func TestEnforcement(t *testing.T) {
	if os.Getenv("NETDEP_E2E") != "1" {
		t.Skip("SKIPPED: the end-to-end enforcement test runs only with NETDEP_E2E=1 (use `make e2e`; it needs root, iptables, ipset, nftables, conntrack, iproute2 and etcd: tests/e2e/setup.sh)")
	}
	etcd := requireHost(t)

	ctx, cancel := testContext(t)
	defer cancel()
	cleanupOnSignal(t)
	t.Cleanup(func() { SweepOwn(context.Background()) })
	if stale := SweepStale(ctx); len(stale) > 0 {
		t.Logf("removed namespaces left by killed runs: %v", stale)
	}

	// tests/scripts/e2e.sh builds the tools first (cmd/e2e-tools), without go
	// test's timeout; here they are normally found in the cache.
	tb := time.Now()
	bins, err := BuildTools(ctx, "tools", t.Logf)
	if err != nil {
		t.Fatal(err)
	}
	bins.Etcd = etcd
	t.Logf("tools ready in %s", time.Since(tb).Round(time.Millisecond))

	scenarios, err := LoadScenarios()
	if err != nil {
		t.Fatal(err)
	}
	if len(scenarios) == 0 {
		t.Fatal("no scenario found")
	}

	kinds, err := SelectAgents(os.Getenv("NETDEP_E2E_AGENTS"))
	if err != nil {
		t.Fatalf("NETDEP_E2E_AGENTS: %v", err)
	}
	tally := NewTally(kinds)
	defer tally.Write(os.Stdout)
	for i, sc := range scenarios {
		t.Run(sc.Name, func(t *testing.T) {
			for _, n := range sc.Notes {
				t.Log(n)
			}
			for _, p := range sc.NotEnforced {
				t.Logf("not enforced by any agent here: %s", p)
			}
			for _, h := range sc.Unprobed {
				t.Logf("not probed (a host named by DNS has no address here): %s", h)
			}
			tally.AddScenario(sc)
			if sc.Unenforceable != "" {
				t.Logf("NOT ENFORCEABLE here: %s", sc.Unenforceable)
				tally.Unenforceable = append(tally.Unenforceable, Unenforceable{Scenario: sc.Name, Reason: sc.Unenforceable})
				return
			}
			apis := sc.APIs()
			if !slices.ContainsFunc(AgentKinds(), func(k AgentKind) bool { return k.Enforces(apis) }) {
				t.Fatalf("no agent the suite knows enforces %v", apis)
			}
			var done []*Run
			for j, k := range kinds {
				if !k.Enforces(apis) {
					t.Logf("%s: not run: it does not enforce %v", k.Name, apis)
					tally.Agent(k.Name).Skipped = append(tally.Agent(k.Name).Skipped, sc.Name)
					continue
				}
				t.Run(k.Name, func(t *testing.T) {
					r := &Run{
						Scenario: sc, Agent: k.New(bins, apis), Workers: k.Workers, Bins: bins,
						Dir: t.TempDir(), Index: i*len(AgentKinds()) + j, Logf: t.Logf,
					}
					ok := runScenario(ctx, t, r)
					if ok {
						done = append(done, r)
					}
					tally.Add(r, k.Name, ok)
				})
			}
			if len(done) < 2 {
				return
			}
			tally.Compared++
			tally.ComparedFlows += len(done[0].Enforced)
			for _, other := range done[1:] {
				ds, err := Disagreements(done[0], other)
				if err != nil {
					t.Fatal(err)
				}
				tally.Disagreed += len(ds)
				for _, d := range ds {
					fmt.Printf("DISAGREE %s: %s -> %s %s: %s %s, %s %s\n", sc.Name, d.From.ID(), d.To.ID(), d.Probe, d.A, d.GotA, d.B, d.GotB)
				}
				if len(ds) > 0 {
					t.Errorf("%s and %s enforce %d of %d flows differently", done[0].Agent.Name(), other.Agent.Name(), len(ds), len(other.Enforced))
				}
			}
		})
	}
}

// runScenario runs one scenario with one agent and prints its truth tables;
// it reports whether the run got to the end (its verdicts may still differ
// from the oracles, which fails t).
func runScenario(ctx context.Context, t *testing.T, r *Run) bool {
	untrack := track(r)
	defer untrack()
	start := time.Now()
	err := r.Execute(ctx)
	for pi, ph := range r.Phases {
		WriteTable(os.Stdout, r.Scenario.Universe, ph, pi > 0 || ph.Failed() > 0)
	}
	if err != nil || t.Failed() {
		dumpDiagnostics(ctx, t, r)
		t.Errorf("%s with %s: %v", r.Scenario.Name, r.Agent.Name(), err)
		return false
	}
	for _, ph := range r.Phases {
		if n := ph.Failed(); n > 0 {
			dumpDiagnostics(ctx, t, r)
			t.Errorf("%s: %d of %d flows differ from the oracle (%s)", ph.Name, n, len(ph.Checks), ph.Oracle)
		}
	}
	t.Logf("scenario %s with %s: %s", r.Scenario.Name, r.Agent.Name(), time.Since(start).Round(time.Millisecond))
	return true
}

// requireHost skips, saying why, where the test cannot run: it never passes
// without having probed anything. It returns the etcd binary.
func requireHost(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("SKIPPED: the e2e test must run as root (it creates network namespaces and iptables rules inside them)")
	}
	for _, bin := range []string{"ip", "iptables", "iptables-save", "iptables-restore", "ipset", "conntrack", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("SKIPPED: %s not found (run tests/e2e/setup.sh): %v", bin, err)
		}
	}
	etcd := os.Getenv("NETDEP_E2E_ETCD")
	if etcd == "" {
		etcd = "etcd"
	}
	etcd, err := exec.LookPath(etcd)
	if err != nil {
		t.Skipf("SKIPPED: etcd not found (run tests/e2e/setup.sh, or set NETDEP_E2E_ETCD): %v", err)
	}
	probe := fmt.Sprintf("%s-check", runTag())
	ns, err := NewNetNS(context.Background(), probe)
	if err != nil {
		t.Skipf("SKIPPED: cannot create a network namespace here: %v", err)
	}
	defer ns.Delete(context.Background())
	if _, err := ns.Output(context.Background(), "iptables-save", "-t", "filter"); err != nil {
		t.Skipf("SKIPPED: iptables does not work inside a network namespace here: %v", err)
	}
	return etcd
}

// testContext ends a minute before go test's own -timeout would panic the
// binary (a panic runs no deferred cleanup).
func testContext(t *testing.T) (context.Context, context.CancelFunc) {
	if d, ok := t.Deadline(); ok {
		return context.WithDeadline(context.Background(), d.Add(-time.Minute))
	}
	return context.WithCancel(context.Background())
}

// The runs in progress, for the signal handler.
var (
	activeMu sync.Mutex
	active   = map[*Run]*sync.Once{}
)

func track(r *Run) func() {
	once := &sync.Once{}
	activeMu.Lock()
	active[r] = once
	activeMu.Unlock()
	return func() {
		once.Do(r.Close)
		activeMu.Lock()
		delete(active, r)
		activeMu.Unlock()
	}
}

// cleanupOnSignal makes Ctrl-C and SIGTERM (CI cancelling) remove everything
// the run created before the process exits; deferred functions do not run
// when a signal kills a Go program.
func cleanupOnSignal(t *testing.T) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	done := make(chan struct{})
	t.Cleanup(func() { signal.Stop(ch); close(done) })
	go func() {
		select {
		case sig := <-ch:
			fmt.Fprintf(os.Stderr, "e2e: %v: cleaning up\n", sig)
			activeMu.Lock()
			for r, once := range active {
				once.Do(r.Close)
				// t.TempDir's own cleanup does not run on os.Exit.
				if parent := filepath.Dir(r.Dir); strings.HasPrefix(filepath.Base(parent), "Test") {
					_ = os.RemoveAll(parent)
				}
			}
			activeMu.Unlock()
			SweepOwn(context.Background())
			os.Exit(2)
		case <-done:
		}
	}()
}

// dumpDiagnostics logs the tails of the daemons' logs and the agent's rules.
func dumpDiagnostics(ctx context.Context, t *testing.T, r *Run) {
	var procs []*Process
	if r.Cluster != nil {
		procs = append(procs, r.Cluster.Processes()...)
	}
	procs = append(procs, r.Agent.Processes()...)
	sort.Slice(procs, func(i, j int) bool { return procs[i].Name < procs[j].Name })
	for _, p := range procs {
		t.Logf("--- %s log (tail) ---\n%s", p.Name, p.Tail(25))
	}
	t.Logf("--- %s: node dataplane ---\n%s", r.Agent.Name(), r.Agent.State(ctx))
}
