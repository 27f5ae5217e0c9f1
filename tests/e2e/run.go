package e2e

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Check is one probed flow: what the oracle expected and what happened.
type Check struct {
	Flow
	Expect  bool
	Got     Outcome
	Detail  string
	Elapsed time.Duration
}

// OK reports whether the packet's fate matches the oracle. A probe that was
// misrouted or could not be made is never OK, whatever the oracle said.
func (c Check) OK() bool {
	if c.Got == Misrouted || c.Got == Errored {
		return false
	}
	return c.Expect == (c.Got == Passed)
}

// Phase is one probe sweep over every flow.
type Phase struct {
	Name   string
	Oracle string
	Checks []Check
	Took   time.Duration
}

// Failed counts mismatches.
func (p *Phase) Failed() int {
	n := 0
	for _, c := range p.Checks {
		if !c.OK() {
			n++
		}
	}
	return n
}

// Flows lists every flow a sweep probes: every endpoint to every other one, on
// every probe port.
func Flows(u *Universe) []Flow {
	probes, _ := u.ProbePorts()
	var out []Flow
	for _, from := range u.Endpoints() {
		for _, to := range u.Endpoints() {
			if from == to {
				continue // a pod's traffic to itself never leaves its namespace
			}
			if !from.IsPod() && !to.IsPod() {
				continue // no policy governs traffic between two outside hosts
			}
			for _, p := range probes {
				out = append(out, Flow{From: from, To: to, Probe: p})
			}
		}
	}
	return out
}

// Observation is what one probe saw, before any oracle is asked.
type Observation struct {
	Flow
	Got     Outcome
	Detail  string
	Elapsed time.Duration
}

// Sweep probes every flow, workers at a time.
func Sweep(ctx context.Context, tb *Testbed, u *Universe, workers int) ([]Observation, time.Duration) {
	flows := Flows(u)
	obs := make([]Observation, len(flows))
	start := time.Now()
	workers = max(1, min(workers, len(flows)))
	idx := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range idx {
				f := flows[i]
				t0 := time.Now()
				got, detail := ProbeFlow(ctx, tb.NS[f.From.ID()], f)
				obs[i] = Observation{Flow: f, Got: got, Detail: detail, Elapsed: time.Since(t0)}
			}
		}()
	}
	for i := range flows {
		idx <- i
	}
	close(idx)
	wg.Wait()
	return obs, time.Since(start)
}

// Judge compares observations with one oracle.
func Judge(name string, obs []Observation, took time.Duration, o Oracle) *Phase {
	ph := &Phase{Name: name, Oracle: o.Name(), Took: took, Checks: make([]Check, len(obs))}
	for i, ob := range obs {
		ph.Checks[i] = Check{Flow: ob.Flow, Expect: o.Allowed(ob.Flow), Got: ob.Got, Detail: ob.Detail, Elapsed: ob.Elapsed}
	}
	return ph
}

// Run is one scenario with one agent, end to end: network, listeners, API
// server, objects, agent, negative control, policies, enforcement sweep.
type Run struct {
	Scenario *Scenario
	Agent    Agent
	Workers  int // probes in flight (AgentKind.Workers)
	Bins     Binaries
	Dir      string // logs and state, removed by the caller
	Index    int    // tells this run's namespaces from other scenarios'
	Logf     func(string, ...any)

	Testbed *Testbed
	Cluster *Cluster
	Phases  []*Phase
	// Enforced is what the enforcement sweep saw, before any oracle: the
	// suite compares it between agents.
	Enforced []Observation
	lst      Listeners
}

// Execute runs the scenario. Whatever happens, Close must be called after
// it, and removes everything it created.
func (r *Run) Execute(ctx context.Context) error {
	if err := r.Start(ctx); err != nil {
		return err
	}
	sc := r.Scenario
	u := sc.Universe
	t3 := time.Now()
	// Admin policies first. kube-network-policies shows no sign of having
	// taken them in (only NetworkPolicy events make it sync), and they come
	// through another watch than the NetworkPolicies, so created first they
	// have had the longest to arrive when the wait for those ends. A late
	// one fails the run (its flows come out wrong), never passes it.
	if err := r.Cluster.ApplyObjects(ctx, sc.Objects); err != nil {
		return err
	}
	if err := r.Cluster.Apply(ctx, sc.Policies); err != nil {
		return err
	}
	// The plugins' objects go to the API server too, as in a cluster that
	// has their CRDs (validated by it against the upstream schemas); no
	// agent here reads them.
	if err := r.applyPluginObjects(ctx); err != nil {
		return err
	}
	if len(sc.Policies) == 0 && len(sc.Objects) == 0 {
		// Staged objects only: nothing an agent here reads was created,
		// so there is nothing to wait for (kube-network-policies would
		// log no sync).
		r.Logf("no object an agent here reads: the agent enforces what it did in the negative control")
	} else if err := r.Agent.WaitProgrammed(ctx, len(sc.Policies)); err != nil {
		return err
	}
	r.Logf("%d policies applied and programmed in %s", len(sc.Objects)+len(sc.Policies), time.Since(t3).Round(time.Millisecond))
	// The control sweep left conntrack entries in the node. An enforced UDP
	// probe that happens to reuse a control probe's source port (ephemeral
	// ports collide about once in a few runs over thousands of flows) would
	// ride such an entry through the agent's ESTABLISHED accept and pass
	// although the policy denies it.
	if _, err := r.Testbed.Node.Output(ctx, "conntrack", "-F"); err != nil {
		return fmt.Errorf("flushing the node's conntrack table after the negative control: %w", err)
	}
	obs, took := Sweep(ctx, r.Testbed, u, r.Workers)
	r.Enforced = obs
	for _, o := range sc.Oracles {
		r.Phases = append(r.Phases, Judge("enforced by "+r.Agent.Name(), obs, took, o))
	}
	return nil
}

// Start builds the test bed, starts the API server and the agent, and runs
// the negative control: everything up to the first policy. Execute applies
// the scenario's policies itself after it; the GitOps scenario (flux_test.go)
// lets Flux apply them.
func (r *Run) Start(ctx context.Context) error {
	sc := r.Scenario
	u := sc.Universe
	t0 := time.Now()
	var err error
	if r.Testbed, err = NewTestbed(ctx, u, r.Index); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	probes, unprobed := u.ProbePorts()
	for _, p := range unprobed {
		r.Logf("not probed (no SCTP sockets in Go): %s", p)
	}
	for _, e := range u.Endpoints() {
		if err := r.lst.Listen(r.Testbed.NS[e.ID()], e, probes); err != nil {
			return err
		}
	}
	r.Logf("testbed: %d endpoints, %d ports each, in %s", len(u.Endpoints()), len(probes), time.Since(t0).Round(time.Millisecond))

	t1 := time.Now()
	if r.Cluster, err = StartCluster(ctx, r.Testbed.Node, r.Bins, r.Dir); err != nil {
		return fmt.Errorf("cluster: %w", err)
	}
	if err := r.Cluster.Populate(ctx, u); err != nil {
		return err
	}
	r.Logf("etcd + kube-apiserver ready, %d namespaces and %d pods created, in %s",
		len(u.Namespaces), len(u.Pods), time.Since(t1).Round(time.Millisecond))
	// An agent that watches an API's objects needs its CRD before it starts.
	if apis := sc.APIs(); len(apis) > 0 {
		crds, err := LoadCRDs(r.Bins.NetworkPolicyAPICRDs, apis)
		if err != nil {
			return err
		}
		if err := r.Cluster.InstallCRDs(ctx, crds); err != nil {
			return err
		}
		r.Logf("CRDs installed: %v", apis)
	}

	t2 := time.Now()
	if err := r.Agent.Start(ctx, r.Testbed.Node, r.Cluster, r.Dir); err != nil {
		return fmt.Errorf("%s: %w", r.Agent.Name(), err)
	}
	r.Logf("%s running in %s (%s)", r.Agent.Name(), time.Since(t2).Round(time.Millisecond), r.Agent.Detail())

	// Negative control: with the agent running and no policy, everything
	// passes, including what the policies will deny. This proves that the
	// network, the listeners and the probes can see a flow pass, so that a
	// blocked probe later means enforcement, not a broken test bed.
	obs, took := Sweep(ctx, r.Testbed, u, r.Workers)
	control := Judge("negative control: agent running, no policy", obs, took, AllowAll{})
	r.Phases = append(r.Phases, control)
	if control.Failed() > 0 {
		return fmt.Errorf("negative control: %d of %d flows did not pass without any policy; the test bed is broken", control.Failed(), len(control.Checks))
	}
	return nil
}

// Close stops the agent, the cluster and the listeners and deletes every
// namespace, in that order. Safe to call more than once.
func (r *Run) Close() {
	if r.Agent != nil {
		r.Agent.Stop()
	}
	if r.Cluster != nil {
		r.Cluster.Stop()
	}
	r.lst.Close()
	if r.Testbed != nil {
		for _, err := range r.Testbed.Close(context.Background()) {
			r.Logf("cleanup: %v", err)
		}
	}
}

// Disagreement is a flow that two agents enforced differently in the same
// scenario: one let it pass, the other did not.
type Disagreement struct {
	Flow
	A, B       string // the agents
	GotA, GotB Outcome
}

// Disagreements compares two runs of one scenario flow by flow. It needs no
// oracle, so it holds where a scenario's oracles are wrong or fall short:
// two real agents that read the same policies differently is a finding
// either way.
func Disagreements(a, b *Run) ([]Disagreement, error) {
	if len(a.Enforced) != len(b.Enforced) {
		return nil, fmt.Errorf("%s probed %d flows, %s %d", a.Agent.Name(), len(a.Enforced), b.Agent.Name(), len(b.Enforced))
	}
	var out []Disagreement
	for i, oa := range a.Enforced {
		ob := b.Enforced[i]
		if oa.From != ob.From || oa.To != ob.To || oa.Probe != ob.Probe {
			return nil, fmt.Errorf("flow %d: %s probed %s -> %s %s, %s probed %s -> %s %s", i,
				a.Agent.Name(), oa.From.ID(), oa.To.ID(), oa.Probe, b.Agent.Name(), ob.From.ID(), ob.To.ID(), ob.Probe)
		}
		if (oa.Got == Passed) != (ob.Got == Passed) {
			out = append(out, Disagreement{Flow: oa.Flow, A: a.Agent.Name(), B: b.Agent.Name(), GotA: oa.Got, GotB: ob.Got})
		}
	}
	return out, nil
}

// applyPluginObjects installs the upstream CRDs of the scenario's plugin
// objects from ../shared/crds and creates the objects (strict field
// validation). Where that folder is absent they are not created, and the
// log says so: no agent here reads them either way.
func (r *Run) applyPluginObjects(ctx context.Context) error {
	sc := r.Scenario
	if len(sc.NotEnforced) == 0 {
		return nil
	}
	if _, err := os.Stat(CRDDir()); err != nil {
		r.Logf("%d plugin objects not created in the API server: no upstream CRDs (%v)", len(sc.NotEnforced), err)
		return nil
	}
	crds, err := PluginCRDs(CRDDir(), sc.NotEnforced)
	if err != nil {
		return err
	}
	if err := r.Cluster.InstallCRDs(ctx, crds); err != nil {
		return err
	}
	objs := make([]*unstructured.Unstructured, len(sc.NotEnforced))
	for i, p := range sc.NotEnforced {
		objs[i] = p.Obj
	}
	if err := r.Cluster.ApplyObjects(ctx, objs); err != nil {
		return fmt.Errorf("plugin objects: %w", err)
	}
	r.Logf("%d plugin objects created in the API server (upstream CRDs from %s, strict validation), enforced by no agent here", len(objs), CRDDir())
	return nil
}
