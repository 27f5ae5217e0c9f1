package posture

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/importer"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// Loader gives an environment's policies: a verify.Source (generated in
// memory, a tree on disk, manifests), or a revision's tree.
type Loader interface {
	Load(env string) (*verify.Manifests, error)
}

// Options tune a report.
type Options struct {
	// Source describes where the policies came from, for the report's
	// header: "generated", "tree examples/shop/netpol", "manifests".
	Source string
	// Sensitive are namespaces whose inbound flows are listed on their own,
	// in every environment, besides those the project file marks sensitive
	// there (schema.Environment.Sensitive).
	Sensitive []string
	// GraphLimit is the most services the html graph draws one by one;
	// above it the graph is drawn per namespace. 0 is DefaultGraphLimit.
	GraphLimit int
}

// DefaultGraphLimit is the most services the html graph draws one by one.
const DefaultGraphLimit = 400

func (o Options) report() *Report {
	return &Report{Source: o.Source, Sensitive: []string{}, Environments: []*Environment{}}
}

// sensitive is o.Sensitive with more, sorted, each once.
func (o Options) sensitive(more []string) []string {
	out := append(append([]string{}, o.Sensitive...), more...)
	sort.Strings(out)
	return slices.Compact(out)
}

// finish sets what the report says of all its environments.
func (r *Report) finish() {
	for _, e := range r.Environments {
		r.Sensitive = append(r.Sensitive, e.Sensitive...)
	}
	sort.Strings(r.Sensitive)
	r.Sensitive = slices.Compact(r.Sensitive)
}

// auditNote says what the figures of an environment in mode: audit are.
func auditNote(e *schema.Environment) string {
	if e.PluginOrDefault() == schema.PluginCilium {
		return "Mode audit: the figures are what the policies enforce once the Cilium agent's policy audit mode is off; while it is on, nothing is denied. `netdep verify` checks what they would enforce."
	}
	return "Mode audit: netdep's policies are staged here, so nothing they say is enforced and these figures are what the cluster enforces without them. `netdep verify` checks what the staged policies would enforce."
}

func set(names []string) map[string]bool {
	m := map[string]bool{}
	for _, n := range names {
		m[n] = true
	}
	return m
}

func (o Options) graphLimit() int {
	if o.GraphLimit > 0 {
		return o.GraphLimit
	}
	return DefaultGraphLimit
}

// FromSpec is the posture of envs of spec under the policies src holds for
// each, over the probe world verify checks (world.New): one pod per
// declared service, the pods raw peers name, an unlabelled pod per
// namespace and one in a namespace nobody declares, the addresses outside
// the cluster. Namespace objects among the manifests label the world's
// namespaces, ClusterNetworkPolicies are evaluated in their tiers.
func FromSpec(spec *schema.Spec, envs []string, src Loader, o Options) (*Report, error) {
	r := o.report()
	notEvaluated := map[string]bool{}
	known := map[string]bool{}
	for _, ns := range spec.Namespaces {
		known[ns.Name] = true
	}
	for _, n := range o.Sensitive {
		if !known[n] {
			return nil, fmt.Errorf("unknown sensitive namespace %q; expected one a dependency file describes%s", n, schema.DidYouMean(n, slices.Sorted(maps.Keys(known))))
		}
	}
	for _, env := range envs {
		m, err := src.Load(env)
		if err != nil {
			return nil, &verify.LoadError{Err: err}
		}
		for _, ref := range m.NotEvaluated {
			notEvaluated[ref.String()] = true
		}
		w := world.New(env, spec)
		w.LabelNamespaces(m.Namespaces)
		ev, err := eval.NewWithPlugins(w.Universe, m.Policies, m.ClusterPolicies, m.Plugins)
		if err != nil {
			return nil, fmt.Errorf("environment %q: %w", env, err)
		}
		var marked []string
		if e := spec.Environment(env); e != nil {
			marked = e.Sensitive
		}
		sens := o.sensitive(marked)
		in := input{env: env, ev: ev, managed: map[string]bool{}, sensitive: set(sens), sensitiveList: sens, graphLimit: o.graphLimit()}
		for _, ns := range spec.Namespaces {
			in.managed[ns.Name] = ns.Managed
		}
		for _, p := range w.Pods {
			in.pods = append(in.pods, pod{name: p.Name, ns: p.Namespace(), subject: p.Kind != world.UnlabelledPod, counted: p.Kind == world.ServicePod})
		}
		for _, n := range w.Universe.Namespaces {
			if n.Name != world.OutsideNamespace {
				in.namespaces = append(in.namespaces, n.Name)
			}
		}
		pe := analyze(in)
		if e := spec.Environment(env); e != nil && e.Audit() {
			pe.Audit = auditNote(e)
		}
		r.Environments = append(r.Environments, pe)
	}
	r.NotEvaluated = len(notEvaluated)
	r.finish()
	return r, nil
}

// FromCluster is the posture of any manifests, with no dependency file:
// one pod per workload the importer reads (importer.LoadCluster: every
// kind with a pod template), named "ns/name[Kind]" as netpol-analyzer
// names them, an unlabelled pod per namespace and one in a namespace the
// manifests do not have. A namespace is managed when a NetworkPolicy lives
// there. The report has one environment, "".
func FromCluster(c *importer.Cluster, m *verify.Manifests, o Options) (*Report, error) {
	r := o.report()
	var u eval.Universe
	var pods []pod
	labels := map[string]map[string]string{}
	for _, n := range c.Namespaces {
		labels[n.Name] = n.Labels
	}
	nsSet := map[string]bool{world.OutsideNamespace: true}
	managed := map[string]bool{}
	for _, n := range c.Namespaces {
		nsSet[n.Name] = true
	}
	for _, p := range c.Policies {
		nsSet[p.Namespace] = true
		managed[p.Namespace] = true
	}
	for _, w := range c.Workloads {
		nsSet[w.Namespace] = true
		name := w.Name + "[" + w.Kind + "]"
		u.Pods = append(u.Pods, eval.Pod{Namespace: w.Namespace, Name: name, Labels: w.Labels, Ports: w.Ports})
		pods = append(pods, pod{name: w.Namespace + "/" + name, ns: w.Namespace, subject: true, counted: true})
	}
	var names []string
	for n := range nsSet {
		names = append(names, n)
	}
	sort.Strings(names)
	sens := o.sensitive(nil)
	in := input{managed: managed, sensitive: set(sens), sensitiveList: sens, graphLimit: o.graphLimit()}
	for _, n := range names {
		u.Namespaces = append(u.Namespaces, eval.Namespace{Name: n, Labels: labels[n]})
		u.Pods = append(u.Pods, eval.Pod{Namespace: n, Name: world.UnlabelledPodName})
		pods = append(pods, pod{name: n + "/" + world.UnlabelledPodName, ns: n})
		if n != world.OutsideNamespace {
			in.namespaces = append(in.namespaces, n)
		}
	}
	ev, err := eval.NewWithPlugins(u, c.Policies, m.ClusterPolicies, m.Plugins)
	if err != nil {
		return nil, err
	}
	in.ev, in.pods = ev, pods
	r.Environments = append(r.Environments, analyze(in))
	r.NotEvaluated = len(m.NotEvaluated)
	r.finish()
	return r, nil
}

func itoa(i int32) string { return strconv.Itoa(int(i)) }
