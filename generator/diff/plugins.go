package diff

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/verify"
)

// sideObjects is what one side holds for an environment, read through
// verify's one manifest reader (a committed tree's build, or the Set's
// objects decoded by verify.DecodeObjects, as verify reads a Set).
type sideObjects struct {
	// pols, cnps and plugins are what the flows evaluate: the enforced
	// objects, or in mode: audit the would-be set (verify.Manifests.WouldBe:
	// the staged objects applied as Calico applies them).
	pols    []*networkingv1.NetworkPolicy
	cnps    []*v1beta1.ClusterNetworkPolicy
	plugins eval.Plugins
	// listed are the NetworkPolicies the object diff lists as
	// NetworkPolicy (the enforced ones, never the staged), others every
	// plugin object with its kind, sorted by kind, namespace and name.
	listed []*networkingv1.NetworkPolicy
	others []pluginObject
	// audit says the side's environment is in mode: audit: the flows are
	// what would be enforced.
	audit bool
}

// Kinds of ObjectChange for the plugins' objects (the staged ones are
// Calico's; KindCalicoNetworkPolicy is Calico's own NetworkPolicy, named
// by its group as the evaluator names it).
const (
	KindCiliumNetworkPolicy           = eval.KindCilium
	KindCalicoNetworkPolicy           = eval.KindCalico
	KindStagedNetworkPolicy           = "StagedNetworkPolicy"
	KindStagedKubernetesNetworkPolicy = "StagedKubernetesNetworkPolicy"
)

// pluginObject is one object of a plugin kind, for the object diff.
type pluginObject struct {
	kind       string // an ObjectChange kind
	apiVersion string // as written in the YAML
	yamlKind   string
	namespace  string
	name       string
	source     string
	obj        any
}

// objects is what the side holds in env (see sideObjects).
func (in Input) objects(env string) (sideObjects, error) {
	var m *verify.Manifests
	var err error
	if in.Tree != nil {
		m, err = in.Tree.Manifests(env)
	} else {
		// A generated side holds everything its tree would: cluster
		// guardrails included.
		m, err = verify.FromSet(in.Set).Load(env)
	}
	if err != nil {
		return sideObjects{}, err
	}
	s := sideObjects{listed: m.Policies, cnps: m.ClusterPolicies}
	if e := envOf(in.Spec, env); e != nil {
		s.audit = e.Audit()
	}
	for _, p := range m.Plugins.Cilium {
		s.others = append(s.others, pluginObject{KindCiliumNetworkPolicy, eval.CiliumAPI, "CiliumNetworkPolicy", p.Namespace, p.Name, p.Annotations[policy.SourceAnnotation], p})
	}
	for _, p := range m.Plugins.Calico {
		s.others = append(s.others, pluginObject{KindCalicoNetworkPolicy, eval.CalicoAPI, "NetworkPolicy", p.Namespace, p.Name, p.Annotations[policy.SourceAnnotation], p})
	}
	for _, p := range m.StagedPolicies {
		s.others = append(s.others, pluginObject{KindStagedKubernetesNetworkPolicy, eval.CalicoAPI, KindStagedKubernetesNetworkPolicy, p.Namespace, p.Name, p.Annotations[policy.SourceAnnotation], p})
	}
	for _, p := range m.StagedCalico {
		s.others = append(s.others, pluginObject{KindStagedNetworkPolicy, eval.CalicoAPI, KindStagedNetworkPolicy, p.Namespace, p.Name, p.Annotations[policy.SourceAnnotation], p})
	}
	slices.SortStableFunc(s.others, func(a, b pluginObject) int {
		return cmp.Or(strings.Compare(a.kind, b.kind), strings.Compare(a.namespace, b.namespace), strings.Compare(a.name, b.name))
	})
	ev := m
	if s.audit {
		ev = m.WouldBe()
	}
	s.pols, s.plugins = ev.Policies, ev.Plugins
	if s.audit && len(s.pols) > 0 {
		s.pols = slices.Clone(s.pols)
		slices.SortStableFunc(s.pols, compareKey)
	}
	return s, nil
}

// pluginDirection keeps of each plugin policy only its rules of one
// direction, as oneDirection does for the NetworkPolicies: a
// CiliumNetworkPolicy's other rules go (it isolates a direction only with
// rules there), a Calico policy keeps only the direction's type (as Calico
// defaults spec.types, eval.CalicoTypes). One with nothing left goes. The
// copies are shallow.
func pluginDirection(pl eval.Plugins, egress bool) eval.Plugins {
	var out eval.Plugins
	for _, p := range pl.Cilium {
		if p.Spec == nil {
			continue
		}
		c, spec := *p, *p.Spec
		if egress {
			spec.Ingress = nil
		} else {
			spec.Egress = nil
		}
		if len(spec.Ingress)+len(spec.Egress) == 0 {
			continue
		}
		c.Spec = &spec
		out.Cilium = append(out.Cilium, &c)
	}
	for _, p := range pl.Calico {
		in, eg := eval.CalicoTypes(&p.Spec)
		c := *p
		switch {
		case egress && eg:
			c.Spec.Types, c.Spec.Ingress = []string{"Egress"}, nil
		case !egress && in:
			c.Spec.Types, c.Spec.Egress = []string{"Ingress"}, nil
		default:
			continue
		}
		out.Calico = append(out.Calico, &c)
	}
	return out
}

// pluginBlocks adds to add every CIDR the plugin policies of a side name.
func pluginBlocks(pl eval.Plugins, add func(string)) {
	cidrSet := func(rs []eval.CiliumCIDRRule) {
		for _, r := range rs {
			add(r.CIDR)
			for _, e := range r.Except {
				add(e)
			}
		}
	}
	for _, p := range pl.Cilium {
		if p.Spec == nil {
			continue
		}
		for _, r := range p.Spec.Egress {
			for _, c := range r.ToCIDR {
				add(c)
			}
			cidrSet(r.ToCIDRSet)
		}
		for _, r := range p.Spec.Ingress {
			for _, c := range r.FromCIDR {
				add(c)
			}
			cidrSet(r.FromCIDRSet)
		}
	}
}

// pluginHosts are the names and patterns the plugin policies of either
// side allow by toFQDNs: a host class each, beside the world's (a tree
// edited by hand may name one no dependency file does).
func pluginHosts(pls [2]eval.Plugins) []string {
	var out []string
	for _, pl := range pls {
		for _, p := range pl.Cilium {
			if p.Spec == nil {
				continue
			}
			for _, r := range p.Spec.Egress {
				for _, f := range r.ToFQDNs {
					if f.MatchName != "" {
						out = append(out, strings.ToLower(strings.TrimSuffix(f.MatchName, ".")))
					}
					if f.MatchPattern != "" {
						out = append(out, strings.ToLower(strings.TrimSuffix(f.MatchPattern, ".")))
					}
				}
			}
		}
	}
	return out
}

// pluginObjectChanges compares two sides' plugin objects, both sorted by
// kind, namespace and name.
// pluginObjectChanges compares two sides' objects of kinds other than
// NetworkPolicy (the plugins', ClusterNetworkPolicies), paired by kind,
// namespace and name, each written as marshalObject writes it.
func pluginObjectChanges(baseObjs, headObjs []pluginObject) ([]ObjectChange, error) {
	type key struct{ kind, ns, name string }
	by := map[key][2]*pluginObject{}
	var keys []key
	for side, list := range [2][]pluginObject{baseObjs, headObjs} {
		for i := range list {
			o := &list[i]
			k := key{o.kind, o.namespace, o.name}
			pair, ok := by[k]
			if !ok {
				keys = append(keys, k)
			}
			pair[side] = o
			by[k] = pair
		}
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(strings.Compare(a.kind, b.kind), strings.Compare(a.ns, b.ns), strings.Compare(a.name, b.name))
	})
	var out []ObjectChange
	for _, k := range keys {
		pair := by[k]
		var y [2][]byte
		for side, o := range pair {
			if o == nil {
				continue
			}
			var err error
			if y[side], err = marshalObject(o.apiVersion, o.yamlKind, o.obj); err != nil {
				return nil, err
			}
		}
		ch := ObjectChange{Action: Changed, Kind: k.kind, Namespace: k.ns, Name: k.name}
		ref := pair[head]
		switch {
		case pair[base] == nil:
			ch.Action = Added
		case pair[head] == nil:
			ch.Action, ref = Removed, pair[base]
		case string(y[base]) == string(y[head]):
			continue
		}
		ch.Source = ref.source
		ch.Diff = unified(string(y[base]), string(y[head]), "a/"+ch.file(), "b/"+ch.file())
		out = append(out, ch)
	}
	return out, nil
}

// marshalObject writes an object's YAML for a diff: apiVersion and kind as
// written in the tree, metadata and spec, keys sorted (no status).
func marshalObject(apiVersion, kind string, obj any) ([]byte, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	doc["apiVersion"], doc["kind"] = apiVersion, kind
	delete(doc, "status")
	if md, ok := doc["metadata"].(map[string]any); ok && md["creationTimestamp"] == nil {
		delete(md, "creationTimestamp")
	}
	return yaml.Marshal(doc)
}
