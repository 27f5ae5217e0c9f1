package generator

import (
	"fmt"
	"maps"
	"path"
	"path/filepath"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
)

// Output is everything one run of the pipeline produces.
type Output struct {
	Spec *schema.Spec
	Set  *policy.Set    // nil with Options.SpecOnly
	Tree kustomize.Tree // empty with Options.SpecOnly
	// Warnings are legal-but-risky findings; the caller decides whether they
	// fail the run (--strict).
	Warnings schema.Problems
}

// ProblemsError is returned when the input has errors: every problem of the
// run, sorted, so the caller can print them all at once.
type ProblemsError struct {
	Problems schema.Problems
}

func (e *ProblemsError) Error() string { return e.Problems.Error() }

// Layout choices beyond kustomize's own: LayoutAuto picks by size.
const (
	// LayoutAuto uses one kustomization per environment for trees whose
	// largest environment renders at most AutoNamespaceThreshold policies,
	// and one kustomization per namespace and environment above that.
	LayoutAuto = "auto"
	// AutoNamespaceThreshold is where kustomize's build of one overlay
	// starts to cost seconds (about 4 CPU-seconds at 1,000 policies on a
	// 2-core machine, growing faster than linearly) and Argo CD's repo
	// server nears its 60-90 s timeout on busy instances.
	AutoNamespaceThreshold = 500
)

// Options tune the pipeline. The zero value is the default.
type Options struct {
	// Layout is "auto" (the default when empty), "environment" or
	// "namespace".
	Layout string
	// TreeLayout is the layout the tree this run regenerates records
	// (kustomize.RecordedLayout of its directory). It applies when neither
	// Layout nor the project file chooses one, so that a tree written with
	// --layout namespace is regenerated, and compared, in that layout.
	TreeLayout string
	// Progress, when set, is told when each stage ends, so a command can
	// show progress on long runs; the library itself never prints.
	Progress func(stage string)
	// SpecOnly stops once the dependency files validate: Output.Set and
	// Output.Tree stay nil. For commands that read the declared graph but
	// not the policies (verify of a written tree, graph, completion), which
	// at 10,000 services saves a second and some 200 MB.
	SpecOnly bool
	// SourcePrefix is the directory the paths were read from, relative to
	// the repository root ("examples/shop"): every netdep.io/source
	// annotation names its files as SourcePrefix/<path as read>, so a run
	// from a subdirectory (diff --base there, Argo CD's plugin in the
	// Application's path) annotates exactly as a run from the root does.
	// Messages keep the paths as read. Absolute paths are left as they are.
	SourcePrefix string
	// NoTree stops once the policies are generated and validated:
	// Output.Tree stays nil. For a side of `diff --base` that commits no
	// tree to compare with (its flows and policy diffs read Set), which at
	// 10,000 services saves the YAML of some 40,000 policies.
	NoTree bool
	// Decoded, when set, is shared with other runs over overlapping files
	// (the two sides of `diff --base`): each file is decoded once.
	Decoded *schema.DecodeCache
}

func (o Options) progress(format string, args ...any) {
	if o.Progress != nil {
		o.Progress(fmt.Sprintf(format, args...))
	}
}

// ChooseLayout applies the auto rule to a generated set.
func ChooseLayout(set *policy.Set, layout string) (kustomize.Layout, error) {
	if layout != "" && layout != LayoutAuto {
		return kustomize.ParseLayout(layout)
	}
	largest := len(set.Base)
	for _, env := range set.Environments {
		// Render's length without its copy and sort: overlays only add.
		if n := len(set.Base) + len(set.Overlay(env)); n > largest {
			largest = n
		}
	}
	if largest > AutoNamespaceThreshold {
		return kustomize.LayoutPerNamespace, nil
	}
	return kustomize.LayoutPerEnvironment, nil
}

// FromPaths runs the pipeline on the dependency files found under paths.
func FromPaths(paths []string, opts ...Options) (*Output, error) {
	files, probs := schema.ReadPaths(paths)
	firstOptions(opts).progress("read %d files", len(files))
	if errs := probs.Errors(); len(errs) > 0 {
		probs.Sort()
		return nil, &ProblemsError{Problems: probs}
	}
	out, err := FromFiles(files, opts...)
	if out != nil {
		out.Warnings = append(probs.Warnings(), out.Warnings...)
		out.Warnings.Sort()
	}
	if pe, ok := err.(*ProblemsError); ok {
		pe.Problems = append(probs, pe.Problems...)
		pe.Problems.Sort()
	}
	return out, err
}

// FromFiles runs the pipeline on files already read (from disk or from a git
// revision).
func FromFiles(files []schema.File, opts ...Options) (*Output, error) {
	o := firstOptions(opts)
	spec, probs := schema.ParseCached(files, o.Decoded)
	if spec != nil {
		services := 0
		for _, ns := range spec.Namespaces {
			services += len(ns.Services)
		}
		o.progress("validated %d namespaces, %d services", len(spec.Namespaces), services)
	}
	if len(probs.Errors()) > 0 {
		probs.Sort()
		return nil, &ProblemsError{Problems: probs}
	}
	if o.SpecOnly {
		return &Output{Spec: spec, Warnings: probs.Warnings()}, nil
	}
	set, err := policy.Generate(spec)
	if err != nil {
		return nil, fmt.Errorf("generating policies: %w", err)
	}
	if err := ValidateSet(set); err != nil {
		return nil, err
	}
	prefixSources(set, o.SourcePrefix)
	n := len(set.Base) + len(set.ClusterBase)
	for _, ps := range set.Overlays {
		n += len(ps)
	}
	for _, ps := range set.ClusterOverlays {
		n += len(ps)
	}
	for _, po := range set.Plugins {
		n += len(po.Cilium) + len(po.Calico)
	}
	o.progress("generated %d policies", n)
	if o.NoTree {
		return &Output{Spec: spec, Set: set, Warnings: probs.Warnings()}, nil
	}
	choice := o.Layout
	for _, c := range []string{spec.Layout, o.TreeLayout} {
		if choice == "" {
			choice = c
		}
	}
	layout, err := ChooseLayout(set, choice)
	if err != nil {
		return nil, err
	}
	auto := choice == "" || choice == LayoutAuto
	tree, err := kustomize.BuildWithOptions(set, kustomize.Options{Layout: layout, Auto: auto})
	if err != nil {
		return nil, fmt.Errorf("laying out the tree: %w", err)
	}
	return &Output{Spec: spec, Set: set, Tree: tree, Warnings: probs.Warnings()}, nil
}

// prefixSources rewrites the netdep.io/source annotations of set to name
// their files below prefix. Annotations hold one file, or several joined by
// "," (a namespace's default-deny names every file of the namespace); one
// prefix keeps their order.
func prefixSources(set *policy.Set, prefix string) {
	prefix = path.Clean(filepath.ToSlash(prefix))
	if prefix == "." || prefix == "" {
		return
	}
	fixed := func(annotations map[string]string) map[string]string {
		src, ok := annotations[policy.SourceAnnotation]
		if !ok {
			return annotations
		}
		files := strings.Split(src, ",")
		for i, f := range files {
			if !path.IsAbs(f) {
				files[i] = path.Join(prefix, f)
			}
		}
		// Policies may share sub-objects (policy.Set): a fresh map.
		a := maps.Clone(annotations)
		a[policy.SourceAnnotation] = strings.Join(files, ",")
		return a
	}
	fix := func(ps []*networkingv1.NetworkPolicy) {
		for _, p := range ps {
			p.Annotations = fixed(p.Annotations)
		}
	}
	fixCluster := func(ps []*v1beta1.ClusterNetworkPolicy) {
		for _, p := range ps {
			p.Annotations = fixed(p.Annotations)
		}
	}
	fix(set.Base)
	for _, ps := range set.Overlays {
		fix(ps)
	}
	for i := range set.Plugins {
		for _, p := range set.Plugins[i].Cilium {
			p.Annotations = fixed(p.Annotations)
		}
		for _, p := range set.Plugins[i].Calico {
			p.Annotations = fixed(p.Annotations)
		}
	}
	fixCluster(set.ClusterBase)
	for _, ps := range set.ClusterOverlays {
		fixCluster(ps)
	}
}

// ValidateSet runs every policy of set through the API server's validation
// of NetworkPolicy (eval.Validate, what verify applies to what it reads),
// and checks the plugin objects (CiliumNetworkPolicies, Calico policies)
// structurally: names, labels, ports, CIDRs, host names, and the shape
// netdep promises (additive, ordered after the Kubernetes policies), so
// that nothing the API server would refuse is ever written: a spec the
// loader should have refused, or a generator bug, fails the run instead of
// the sync. The error names every refused policy, the spec file it came
// from and the API server's reason.
func ValidateSet(set *policy.Set) error {
	var msgs []string
	check := func(ps []*networkingv1.NetworkPolicy) {
		for _, p := range ps {
			errs := eval.Validate(eval.Default(p))
			if len(errs) == 0 {
				continue
			}
			var reasons []string
			for _, e := range errs {
				reasons = append(reasons, e.Error())
			}
			msgs = append(msgs, fmt.Sprintf("networkpolicy %s/%s (from %s): %s", p.Namespace, p.Name,
				p.Annotations[policy.SourceAnnotation], strings.Join(reasons, "; ")))
		}
	}
	check(set.Base)
	for _, ps := range set.Overlays {
		check(ps)
	}
	// ClusterNetworkPolicies: what the v0.3.0 CRD refuses (eval's
	// ValidateCluster, what verify applies to what it reads).
	checkCluster := func(ps []*v1beta1.ClusterNetworkPolicy) {
		for _, p := range ps {
			errs := eval.ValidateCluster(p)
			if len(errs) == 0 {
				continue
			}
			var reasons []string
			for _, e := range errs {
				reasons = append(reasons, e.Error())
			}
			msgs = append(msgs, fmt.Sprintf("clusternetworkpolicy %s (from %s): %s", p.Name,
				p.Annotations[policy.SourceAnnotation], strings.Join(reasons, "; ")))
		}
	}
	checkCluster(set.ClusterBase)
	for _, ps := range set.ClusterOverlays {
		checkCluster(ps)
	}
	msgs = append(msgs, validatePlugins(set)...)
	if len(msgs) == 0 {
		return nil
	}
	return fmt.Errorf("the API server would refuse %d generated %s, so nothing was written (a netdep bug: the dependency files should have been refused; please report it):\n  %s",
		len(msgs), plural(len(msgs), "policy", "policies"), strings.Join(msgs, "\n  "))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// firstOptions makes the options argument optional: callers that want the
// defaults pass none.
func firstOptions(opts []Options) Options {
	if len(opts) == 0 {
		return Options{}
	}
	return opts[0]
}
