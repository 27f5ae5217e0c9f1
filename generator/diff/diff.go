package diff

import (
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// Side names one end of a comparison for people: the revision as the user
// wrote it and, for a git revision, the commit it resolved to.
type Side struct {
	// Ref is the revision ("origin/main", "HEAD~2") or "working tree".
	Ref string
	// Commit is the full commit hash, "" for the working tree.
	Commit string
	// Tree is the committed generated tree the side's policies were read
	// from ("examples/shop/netpol"), "" when they were generated from its
	// dependency files because it commits none.
	Tree string
}

// WorkingTree is the head side when no --head is given.
var WorkingTree = Side{Ref: "working tree"}

// Report is what going from Base to Head changes, per environment.
type Report struct {
	Base, Head Side
	// Environments are every environment of either side, sorted; a single
	// entry named "" when neither side declares environments.
	Environments []EnvReport
	// Stale is how the head's committed tree differs from what generate
	// writes for the head's dependency files; nil when the head commits no
	// tree. A stale tree is a change in itself: what the head enforces is
	// not what its dependency files declare.
	Stale *TreeReport
	// Sensitive are the namespaces whose new inbound flows are a risk
	// (FlagRisks), sorted.
	Sensitive []string
	// Warnings are things a reviewer should know that no flow shows: a
	// renamed service whose default selector follows its name. Each
	// starts with the dependency-file position it is about.
	Warnings []string
}

// EnvReport is the change in one environment.
type EnvReport struct {
	// Name is the environment, "" for the implicit one of a project
	// without environments.
	Name string
	// sensitive are the namespaces the head's project file marks
	// sensitive in this environment (FlagRisks adds a command's own).
	sensitive []string
	// FlowsAdded are connections the head allows and the base did not
	// (on those ports), FlowsRemoved the reverse; sorted by source, then
	// destination.
	FlowsAdded, FlowsRemoved []Flow
	// OneSidedAdded are flows one direction now allows on ports it did not,
	// while the other direction still blocks them (Flow.Direction says
	// which): a hand edit that widens cart's ingress beyond what its
	// callers' egress allows. Each side of a policy set must be
	// least-privilege on its own, so such a widening is a change even
	// though no connection changes; OneSidedRemoved is the reverse. Flows
	// already in FlowsAdded or FlowsRemoved are not repeated here.
	OneSidedAdded, OneSidedRemoved []Flow
	// Objects are the policies added, removed or changed in this
	// environment's rendering (base plus overlay): the
	// ClusterNetworkPolicies by name, then the NetworkPolicies by namespace
	// and name, then the plugins' objects (CiliumNetworkPolicy, Calico's
	// NetworkPolicy and staged kinds) by kind, namespace and name.
	Objects []ObjectChange
	// Audit is set when the environment is in mode: audit on a side: the
	// flows of that side are what would be enforced (verify's would-be
	// set: Calico's staged objects applied; on Cilium every object, the
	// agent's policy audit mode deciding), never what is.
	Audit *EnvAudit `json:",omitempty"`
}

// EnvAudit says which sides of an environment are in mode: audit.
type EnvAudit struct {
	Base, Head bool
}

// Suffix names the environment's mode for people after its name:
// " (audit: would be)", or on one side only " (audit on the base: would
// be)"; "" for none.
func (a *EnvAudit) Suffix() string {
	switch {
	case a == nil || !a.Base && !a.Head:
		return ""
	case a.Base && a.Head:
		return " (audit: would be)"
	case a.Base:
		return " (audit on the base: would be)"
	}
	return " (audit on the head: would be)"
}

// Changed reports whether anything differs in this environment.
func (e *EnvReport) Changed() bool {
	return len(e.FlowsAdded) > 0 || len(e.FlowsRemoved) > 0 || len(e.OneSidedAdded) > 0 || len(e.OneSidedRemoved) > 0 || len(e.Objects) > 0
}

// Count returns how many objects changed in the given way.
func (e *EnvReport) Count(a Action) int {
	n := 0
	for _, o := range e.Objects {
		if o.Action == a {
			n++
		}
	}
	return n
}

// Changed reports whether anything differs in any environment, or the
// head's committed tree is stale.
func (r *Report) Changed() bool {
	if r.HeadStale() {
		return true
	}
	for i := range r.Environments {
		if r.Environments[i].Changed() {
			return true
		}
	}
	return false
}

// HeadStale reports whether the head's committed tree is not what generate
// writes for the head's dependency files.
func (r *Report) HeadStale() bool { return r.Stale != nil && r.Stale.Changed() }

// EnvDisplay is how an environment is named to people: the implicit one of
// a project without environments has no name of its own.
func EnvDisplay(name string) string {
	if name == "" {
		return "(no environments)"
	}
	return name
}

// Input is one side of a comparison: what a run of the pipeline made of the
// side's dependency files (from the working tree or a git revision) and
// the generated tree the side commits for them, if any.
type Input struct {
	// Spec is the side's validated dependency files, Set the policies
	// generated from them and Generated the tree generate writes for them
	// (generator.Output's Spec, Set and Tree).
	Spec      *schema.Spec
	Set       *policy.Set
	Generated kustomize.Tree
	Side      Side
	// Tree, when not nil, is what the side enforces: its flows and policies
	// are read from the tree, not generated from Set (a hand edit of the
	// tree is a change like any other). On the head side, the tree is also
	// compared with Generated (Report.Stale).
	Tree *Tree
}

// Compare reports what going from base to head changes, each side's
// policies read from its committed tree where it has one and generated
// otherwise.
func Compare(base, head Input) (*Report, error) {
	for _, in := range []*Input{&base, &head} {
		if in.Tree != nil {
			in.Side.Tree = in.Tree.Dir
		}
	}
	r := &Report{Base: base.Side, Head: head.Side}
	if head.Tree != nil {
		st, err := head.Tree.Stale(head.Generated)
		if err != nil {
			return nil, err
		}
		r.Stale = st
	}
	m := marshaller{}
	eq := equalObjects{}
	for _, env := range environments(base.Set, head.Set) {
		er := EnvReport{Name: env}
		if e := head.Spec.Environment(env); e != nil {
			er.sensitive = e.Sensitive
		}
		var objs [2]sideObjects
		for side, in := range [2]Input{base, head} {
			var err error
			if objs[side], err = in.objects(env); err != nil {
				return nil, fmt.Errorf("environment %s: %w", EnvDisplay(env), err)
			}
		}
		if objs[0].audit || objs[1].audit {
			er.Audit = &EnvAudit{Base: objs[0].audit, Head: objs[1].audit}
		}
		pols := [2][]*networkingv1.NetworkPolicy{objs[0].pols, objs[1].pols}
		cnps := [2][]*v1beta1.ClusterNetworkPolicy{objs[0].cnps, objs[1].cnps}
		plugins := [2]eval.Plugins{objs[0].plugins, objs[1].plugins}
		fc, err := flowChanges([2]*schema.Spec{base.Spec, head.Spec}, env, pols, cnps, plugins, eq)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", EnvDisplay(env), err)
		}
		er.FlowsAdded, er.FlowsRemoved = fc.added, fc.removed
		er.OneSidedAdded, er.OneSidedRemoved = fc.oneAdded, fc.oneRemoved
		attribute(&er, base, head)
		if head.Spec != nil {
			markExceptions(head.Spec.Environment(env), er.FlowsAdded)
			markExceptions(head.Spec.Environment(env), er.OneSidedAdded)
		}
		// ClusterNetworkPolicies are cluster-scoped: listed first, by name.
		if er.Objects, err = clusterObjectChanges(cnps[0], cnps[1]); err != nil {
			return nil, fmt.Errorf("environment %s: %w", EnvDisplay(env), err)
		}
		npChanges, err := objectChanges(objs[0].listed, objs[1].listed, m, eq)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", EnvDisplay(env), err)
		}
		er.Objects = append(er.Objects, npChanges...)
		// The plugins' objects last, by kind, namespace and name.
		pluginChanges, err := pluginObjectChanges(objs[0].others, objs[1].others)
		if err != nil {
			return nil, fmt.Errorf("environment %s: %w", EnvDisplay(env), err)
		}
		er.Objects = append(er.Objects, pluginChanges...)
		r.Environments = append(r.Environments, er)
	}
	r.FlagRisks(nil)
	r.Warnings = renameWarnings(base.Spec, head.Spec)
	return r, nil
}

// environments is the union of both sides' environments. A side that lacks
// one renders its base there, which is what it would deploy to a cluster it
// has no overlay for.
func environments(base, head *policy.Set) []string {
	envs := append(slices.Clone(base.Environments), head.Environments...)
	slices.Sort(envs)
	envs = slices.Compact(envs)
	if len(envs) == 0 {
		return []string{""}
	}
	return envs
}
