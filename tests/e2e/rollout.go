package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/netdep/netdep/schema"
)

// A rollout is a Git history of one example, made the way a team makes it:
// edit the dependency files, run `netdep generate`, commit the tree. Flux
// syncs each commit in turn; between two commits the flows that both allow
// are probed without pause.

// Change is one commit of a rollout: text edits of the example's files,
// and what they must have changed in the spec netdep loads (Effect returns
// "" when before -> after is that change, else what is wrong), so that an
// edit that still applies but no longer means the change fails.
type Change struct {
	Name   string
	Edits  []Edit
	Effect func(before, after *schema.Spec) string
}

// Edit replaces Old (which must occur exactly once) with New in File, a
// path relative to the example's directory.
type Edit struct {
	File, Old, New string
}

// Revision is one commit: what netdep generated, and what it should enforce.
type Revision struct {
	Name     string
	Commit   string
	Spec     *schema.Spec
	Policies []*networkingv1.NetworkPolicy // the overlay, built with krusty
	// Plugin are the overlay's plugin objects (Cilium, Calico): applied by
	// Flux, enforced by no agent here, held to be in the API server.
	Plugin []PluginObject
	Oracle Oracle
}

// Repo is the working copy the rollout is committed in, and the bare
// repository Flux fetches from.
type Repo struct {
	Work, Bare string
	Example    string // examples/<name>, relative to Work
}

// git runs git in dir with a fixed identity and no user or system config.
func git(ctx context.Context, dir string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "init.defaultBranch=main", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null",
		"GIT_AUTHOR_NAME=netdep e2e", "GIT_AUTHOR_EMAIL=e2e@netdep.invalid",
		"GIT_COMMITTER_NAME=netdep e2e", "GIT_COMMITTER_EMAIL=e2e@netdep.invalid")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// BuildNetdep builds the netdep CLI of this repository (root) into dir.
func BuildNetdep(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "netdep")
	cmd := exec.CommandContext(ctx, goBinary(), "build", "-o", bin, "./cmd/netdep")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=-mod=readonly", "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build netdep: %w\n%s", err, out)
	}
	return bin, nil
}

// NewRepo copies examples/<name> of root into a fresh repository under dir,
// with the same path, commits it, and creates the bare repository
// <dir>/git/<name>.git that the Git server serves.
func NewRepo(ctx context.Context, root, name, dir string) (*Repo, error) {
	r := &Repo{Work: filepath.Join(dir, "work"), Bare: filepath.Join(dir, "git", name+".git"), Example: filepath.Join("examples", name)}
	src := filepath.Join(root, "examples", name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(r.Work, r.Example, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
	if err != nil {
		return nil, err
	}
	if _, err := git(ctx, r.Work, "init", "-q"); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(r.Bare), 0o755); err != nil {
		return nil, err
	}
	if _, err := git(ctx, filepath.Dir(r.Bare), "init", "-q", "--bare", filepath.Base(r.Bare)); err != nil {
		return nil, err
	}
	return r, nil
}

// Commit regenerates the tree with netdep, commits everything and returns
// the commit's hash. It fails when generate fails.
func (r *Repo) Commit(ctx context.Context, netdep, msg string) (string, error) {
	cmd := exec.CommandContext(ctx, netdep, "generate", r.Example, "--out", filepath.Join(r.Example, "netpol"))
	cmd.Dir = r.Work
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("netdep generate (%s): %w\n%s", msg, err, out)
	}
	if _, err := git(ctx, r.Work, "add", "-A"); err != nil {
		return "", err
	}
	if _, err := git(ctx, r.Work, "commit", "-q", "--allow-empty", "-m", msg); err != nil {
		return "", err
	}
	return git(ctx, r.Work, "rev-parse", "HEAD")
}

// Push publishes commit as main of the bare repository.
func (r *Repo) Push(ctx context.Context, commit string) error {
	_, err := git(ctx, r.Work, "push", "-q", "--force", r.Bare, commit+":refs/heads/main")
	return err
}

// Apply makes a change's edits in the working copy.
func (r *Repo) Apply(c Change) error {
	for _, e := range c.Edits {
		p := filepath.Join(r.Work, r.Example, e.File)
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("%s: %w", c.Name, err)
		}
		if n := strings.Count(string(b), e.Old); n != 1 {
			return fmt.Errorf("%s: %s: want the text to replace exactly once, found it %d times: %q", c.Name, e.File, n, e.Old)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(b), e.Old, e.New, 1)), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Load reads the working copy's spec and the overlay of env as committed:
// its NetworkPolicies and its plugin objects (no guardrails: the Flux
// scenario runs on kube-router).
func (r *Repo) Load(env string) (*schema.Spec, []*networkingv1.NetworkPolicy, []PluginObject, error) {
	// schema.Load reports paths as given; load from the working copy's
	// root so annotations and messages read as in the repository.
	dir := filepath.Join(r.Work, r.Example)
	spec, probs := schema.Load([]string{dir})
	if errs := probs.Errors(); len(errs) > 0 {
		return nil, nil, nil, fmt.Errorf("%s: %v", dir, errs)
	}
	m, err := loadEnvTree(dir, env)
	if err != nil {
		return nil, nil, nil, err
	}
	return spec, m.Policies, m.Plugin, nil
}

// loadEnvTree reads the committed tree of env in an example: its
// NetworkPolicies and plugin objects; guardrails are refused (kube-router
// enforces neither API).
func loadEnvTree(dir, env string) (*Manifests, error) {
	tree := filepath.Join(dir, "netpol", "base")
	if env != "" {
		tree = filepath.Join(dir, "netpol", "overlays", env)
	}
	m, err := LoadManifests(tree)
	if err != nil {
		return nil, err
	}
	if len(m.ClusterPolicies) > 0 || len(m.Admin) > 0 {
		return nil, fmt.Errorf("%s: guardrail objects: the Flux scenario runs on kube-router, which enforces NetworkPolicy only", tree)
	}
	return m, nil
}

// FluxEnvironment picks the environment of the example the Flux scenario
// rolls out: one whose committed tree the agents enforce (NetworkPolicies;
// an audit environment's staged objects enforce nothing, and a rollout of
// them would prove nothing), preferring one whose tree also holds enforced
// plugin objects (so Flux applies them, and the API server holds them to
// their CRDs' schemas), in the order of the project file. It says why.
func FluxEnvironment(dir string) (env, why string, err error) {
	spec, probs := schema.Load([]string{dir})
	if errs := probs.Errors(); len(errs) > 0 {
		return "", "", fmt.Errorf("%s: %v", dir, errs)
	}
	first := ""
	var skipped []string
	for _, e := range spec.EnvNames() {
		m, err := loadEnvTree(dir, e)
		if err != nil {
			return "", "", err
		}
		if len(m.Policies) == 0 {
			skipped = append(skipped, e+" (no NetworkPolicy: audit)")
			continue
		}
		if len(m.Plugin) > 0 {
			return e, fmt.Sprintf("the first whose tree has NetworkPolicies and plugin objects (%d, first %s)", len(m.Plugin), m.Plugin[0]) + skippedText(skipped), nil
		}
		if first == "" {
			first = e
		}
		skipped = append(skipped, e+" (no plugin object)")
	}
	if first == "" {
		return "", "", fmt.Errorf("%s: no environment whose tree has NetworkPolicies", dir)
	}
	return first, "the first whose tree has NetworkPolicies; no tree has enforced plugin objects beside them", nil
}

func skippedText(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return "; before it: " + strings.Join(s, ", ")
}

// Transition is what the prober saw while one revision replaced another.
type Transition struct {
	Name   string
	Flows  int // flows that both revisions allow, probed round after round
	Rounds int // complete rounds over them
	Probes int
	Syncs  int // agent syncs that ran while it was watched
	Unsafe int // API states between the revisions that deny one of the flows
	States int // API states between the revisions
	// AgentDrops are failed probes while every state allowed the flow.
	AgentDrops int
	Failures   []TimedCheck
	Took       time.Duration
}

// TimedCheck is a failed probe and when it happened after the change began.
type TimedCheck struct {
	Check
	At time.Duration
}

// Watch probes flows without pause, from many workers, until stop is
// called; every probe expects the flow to pass.
func Watch(ctx context.Context, tb *Testbed, u *Universe, flows []Flow) (stop func() *Transition) {
	ctx, cancel := context.WithCancel(ctx)
	tr := &Transition{Flows: len(flows)}
	if len(flows) == 0 {
		return func() *Transition { cancel(); return tr }
	}
	avoid := map[int]bool{}
	probes, _ := u.ProbePorts()
	for _, p := range probes {
		avoid[int(p.Port)] = true
	}
	// Per source, UDP source ports go round 32768-60999 (skipping the
	// ports listeners use): a tuple comes back only after thousands of
	// probes from that source, long after its conntrack entry expired.
	var portsMu sync.Mutex
	next := map[string]int{}
	udpPort := func(src string) int {
		portsMu.Lock()
		defer portsMu.Unlock()
		for {
			p := 32768 + next[src]%28232
			next[src]++
			if !avoid[p] {
				return p
			}
		}
	}
	start := time.Now()
	var n atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	const workers = 16
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(n.Add(1)-1) % len(flows)
				f := flows[i]
				t0 := time.Now()
				got, detail := ProbeFlowFrom(ctx, tb.NS[f.From.ID()], f, udpPort(f.From.ID()))
				if ctx.Err() != nil {
					return // cut short by stop: not an observation
				}
				mu.Lock()
				tr.Probes++
				if got != Passed {
					tr.Failures = append(tr.Failures, TimedCheck{
						Check: Check{Flow: f, Expect: true, Got: got, Detail: detail, Elapsed: time.Since(t0)},
						At:    t0.Sub(start),
					})
				}
				mu.Unlock()
			}
		}()
	}
	return func() *Transition {
		cancel()
		wg.Wait()
		tr.Took = time.Since(start)
		tr.Rounds = tr.Probes / len(flows)
		sort.Slice(tr.Failures, func(i, j int) bool { return tr.Failures[i].At < tr.Failures[j].At })
		return tr
	}
}

// Persistent returns the flows that both oracles allow and that a policy
// can decide: the source's egress or the target's ingress is in one of
// governed's namespaces (a NetworkPolicy selects pods of its own namespace
// only, so a flow between two other endpoints passes whatever is applied).
// Fewer flows make faster rounds: a state that lasts one agent sync is seen.
func Persistent(u *Universe, before, after Oracle, governed map[string]bool) []Flow {
	var out []Flow
	for _, f := range Flows(u) {
		if !governed[f.From.Namespace] && !governed[f.To.Namespace] {
			continue
		}
		if before.Allowed(f) && after.Allowed(f) {
			out = append(out, f)
		}
	}
	return out
}

// Namespaces returns the namespaces that hold at least one of pols.
func Namespaces(pols ...[]*networkingv1.NetworkPolicy) map[string]bool {
	out := map[string]bool{}
	for _, ps := range pols {
		for _, p := range ps {
			out[p.Namespace] = true
		}
	}
	return out
}

// WriteTransition prints one transition's figures and every failed probe
// (the first 40, then how many flows failed in all).
func WriteTransition(w *bytes.Buffer, tr *Transition) {
	fmt.Fprintf(w, "\n== transition %q: %d flows allowed before and after, probed continuously for %s while the agent synced %d times: %d probes (%d rounds, one every %s), %d failed\n",
		tr.Name, tr.Flows, tr.Took.Round(time.Millisecond), tr.Syncs, tr.Probes, tr.Rounds, (tr.Took / time.Duration(max(tr.Rounds, 1))).Round(time.Millisecond), len(tr.Failures))
	distinct := map[string]bool{}
	for i, c := range tr.Failures {
		key := c.From.ID() + " -> " + c.To.ID() + " " + c.Probe.String()
		distinct[key] = true
		if i < 40 {
			detail := ""
			if c.Detail != "" {
				detail = " (" + c.Detail + ")"
			}
			fmt.Fprintf(w, "DROPPED at +%s: %s: allowed before and after, probe %s%s\n", c.At.Round(time.Millisecond), key, c.Got, detail)
		}
	}
	if len(tr.Failures) > 0 {
		fmt.Fprintf(w, "%d failed probes over %d distinct flows\n", len(tr.Failures), len(distinct))
	}
}

// Write is one change the API server made to the NetworkPolicies, in the
// order it made them (a watch delivers every write in resourceVersion order).
type Write struct {
	Type watch.EventType
	Key  string // namespace/name
	// State is every policy right after this write.
	State []*networkingv1.NetworkPolicy
}

// Recorder keeps every NetworkPolicy write from its start until Stop.
type Recorder struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	writes []Write
	err    error
}

// Record lists the policies and watches every write after that list.
func Record(ctx context.Context, c *Cluster) (*Recorder, error) {
	list, err := c.Client.NetworkingV1().NetworkPolicies("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, err
	}
	// The cluster's client gives up on any request after 30 s; a watch
	// lasts as long as the transition.
	cfg := rest.CopyConfig(c.Config)
	cfg.Timeout = 0
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w, err := cs.NetworkingV1().NetworkPolicies("").Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	if err != nil {
		cancel()
		return nil, err
	}
	r := &Recorder{cancel: cancel, done: make(chan struct{})}
	state := map[string]*networkingv1.NetworkPolicy{}
	for i := range list.Items {
		p := &list.Items[i]
		state[p.Namespace+"/"+p.Name] = p
	}
	go func() {
		defer close(r.done)
		defer w.Stop()
		for ev := range w.ResultChan() {
			p, ok := ev.Object.(*networkingv1.NetworkPolicy)
			if !ok {
				if ev.Type == watch.Error && ctx.Err() == nil {
					r.mu.Lock()
					r.err = fmt.Errorf("watch: %v", ev.Object)
					r.mu.Unlock()
				}
				continue
			}
			key := p.Namespace + "/" + p.Name
			if ev.Type == watch.Deleted {
				delete(state, key)
			} else {
				state[key] = p
			}
			snap := make([]*networkingv1.NetworkPolicy, 0, len(state))
			for _, q := range state {
				snap = append(snap, q)
			}
			sort.Slice(snap, func(i, j int) bool {
				return snap[i].Namespace+"/"+snap[i].Name < snap[j].Namespace+"/"+snap[j].Name
			})
			r.mu.Lock()
			r.writes = append(r.writes, Write{Type: ev.Type, Key: key, State: snap})
			r.mu.Unlock()
		}
	}()
	return r, nil
}

// Stop waits until the recorded state holds n policies (the watch may lag
// the write that completed the sync by a few milliseconds), then ends.
func (r *Recorder) Stop(n int) ([]Write, error) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		k := len(r.writes)
		last := 0
		if k > 0 {
			last = len(r.writes[k-1].State)
		}
		r.mu.Unlock()
		if k > 0 && last == n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	r.cancel()
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.writes, r.err
}

// UnsafeState is a state between two revisions in which a flow that both
// allow is denied: an agent that syncs then cuts it.
type UnsafeState struct {
	After  int // index of the write that made the state
	Write  Write
	Denied []Flow
}

// Intermediate evaluates every state but the last with netdep's evaluator
// and returns those that deny one of flows (all allowed before and after).
func Intermediate(u *Universe, addrs []netip.Prefix, writes []Write, flows []Flow) ([]UnsafeState, error) {
	var out []UnsafeState
	for i, w := range writes {
		if i == len(writes)-1 {
			break // the final state is the revision, judged by its sweep
		}
		scratch := *u
		scratch.External = append([]*Endpoint(nil), u.External...)
		pols := w.State
		if len(pols) == 0 {
			continue // no policy: every flow passes
		}
		o, err := NewEvalOracle(&scratch, addrs, pols)
		if err != nil {
			return nil, fmt.Errorf("state after write %d (%s %s): %w", i+1, w.Type, w.Key, err)
		}
		var denied []Flow
		for _, f := range flows {
			if !o.Allowed(f) {
				denied = append(denied, f)
			}
		}
		if len(denied) > 0 {
			out = append(out, UnsafeState{After: i, Write: w, Denied: denied})
		}
	}
	return out, nil
}

// WriteStates prints the writes of a transition and every unsafe state.
func WriteStates(w *bytes.Buffer, writes []Write, unsafe []UnsafeState) {
	var seq []string
	for _, wr := range writes {
		seq = append(seq, strings.ToLower(string(wr.Type))+" "+wr.Key)
	}
	fmt.Fprintf(w, "   API writes, in order (%d): %s\n", len(writes), strings.Join(seq, ", "))
	fmt.Fprintf(w, "   states between the revisions that deny a flow allowed before and after: %d of %d\n", len(unsafe), max(len(writes)-1, 0))
	for _, s := range unsafe {
		fmt.Fprintf(w, "UNSAFE after write %d (%s %s): %d flows denied, e.g.", s.After+1, strings.ToLower(string(s.Write.Type)), s.Write.Key, len(s.Denied))
		for i, f := range s.Denied {
			if i == 3 {
				break
			}
			fmt.Fprintf(w, " %s -> %s %s;", f.From.ID(), f.To.ID(), f.Probe)
		}
		fmt.Fprintln(w)
	}
}
