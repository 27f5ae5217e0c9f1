package diff

import (
	"reflect"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/generator/eval"
)

// The incremental flow diff. A pull request touches a handful of services,
// but comparing the two sides pair by pair is quadratic in the pods of the
// world (10,000 services: 10^8 pairs, four evaluators over every policy).
// NetworkPolicy semantics are local: a pod's ingress depends only on the
// policies that select it (which isolate it and whose rules admit sources by
// their labels), its egress only on the policies that select it (whose rules
// admit destinations by their labels and resolve named ports on them). So
// with the pods' labels and ports unchanged, the pair (s, d) can change only
// when a policy that differs between the sides selects s (its egress) or d
// (its ingress), and then only where that side differs:
//
//   - touched pods T are those some changed policy selects, on either side;
//   - for t in T, the ingress of (s, t) differs only for sources that t's
//     ingress admits on either side, and the egress of (t, d) only for
//     destinations t's egress reaches on either side (every endpoint when t
//     is not isolated on one side);
//   - for each such pair the other direction is the same on both sides and
//     is read from the evaluators too, so the pods involved X are T and
//     those candidates, and each side's evaluator holds only the policies
//     selecting a pod of X: exact for every pod of X, since nothing else
//     bears on its sides.
//
// ClusterNetworkPolicies and the plugins' policies (CiliumNetworkPolicy,
// Calico's NetworkPolicy), the same on both sides, are evaluated whole with
// each side's policies: their tiers decide a pod's sides from what selects
// it as locally, and a plugin policy bears only on the pods it selects.
// When the pods themselves differ between the sides (a selector or a port
// changed: every policy naming the pod may now match it differently), or a
// ClusterNetworkPolicy or a plugin policy changed, fullFlowChanges runs
// instead.
// TestIncrementalEqualsFull proves both give the same flows on random
// changes of random specs.

// incrementalFlowChanges is flowChanges's result computed from the pairs
// that can differ; ok is false when the pods differ between the sides and
// the caller must compare every pair.
func incrementalFlowChanges(u *universe, pols [2][]*networkingv1.NetworkPolicy, cnps [2][]*v1beta1.ClusterNetworkPolicy, plugins [2]eval.Plugins, eq equalObjects) (fs flowSets, ok bool, err error) {
	// ClusterNetworkPolicies and plugin policies the same on both sides
	// decide each pod's sides as locally as the policies do (their
	// subjects are pods, or a namespace's pods); a change of one may move
	// any pair.
	if !reflect.DeepEqual(cnps[base], cnps[head]) || !reflect.DeepEqual(plugins[base], plugins[head]) {
		return flowSets{}, false, nil
	}
	for i := range u.pods[base] {
		if !reflect.DeepEqual(u.pods[base][i], u.pods[head][i]) {
			return flowSets{}, false, nil
		}
	}
	pods := u.pods[base]
	byNS := map[string][]int{}
	for i, p := range pods {
		byNS[p.Namespace] = append(byNS[p.Namespace], i)
	}
	// selected[side][k] are the pods policy k of side selects.
	var selected [2][][]int
	for side := range pols {
		selected[side] = make([][]int, len(pols[side]))
		for k, p := range pols[side] {
			sel, err := metav1.LabelSelectorAsSelector(&p.Spec.PodSelector)
			if err != nil {
				return flowSets{}, false, nil // the full path reports it
			}
			for _, i := range byNS[p.Namespace] {
				if sel.Matches(labels.Set(pods[i].Labels)) {
					selected[side][k] = append(selected[side][k], i)
				}
			}
		}
	}
	touched := map[int]bool{}
	for side, ks := range changedPolicies(pols, eq) {
		for _, k := range ks {
			for _, i := range selected[side][k] {
				touched[i] = true
			}
		}
	}
	if len(touched) == 0 {
		return flowSets{}, true, nil
	}
	T := sortedKeys(touched)

	// Each side's evaluator over the policies selecting a pod of X.
	build := func(x map[int]bool) (ev [2]*sideEval, err error) {
		for side := range pols {
			var keep []*networkingv1.NetworkPolicy
			for k, p := range pols[side] {
				if slices.ContainsFunc(selected[side][k], func(i int) bool { return x[i] }) {
					keep = append(keep, p)
				}
			}
			e, err := eval.NewWithPlugins(u.evalUniverse(side), keep, cnps[side], plugins[side])
			if err != nil {
				return ev, err
			}
			ev[side] = newSideEval(e, u)
		}
		return ev, nil
	}
	ev, err := build(touched)
	if err != nil {
		return flowSets{}, false, err
	}
	// Candidate pairs: (s, t) where t's ingress may differ, (t, d) where
	// t's egress may differ.
	type pair struct{ s, d int }
	cand := map[pair]bool{}
	x := maps2(touched)
	all := len(u.eps)
	for _, t := range T {
		in := [2]map[int]eval.PortSet{ev[base].ingress(t), ev[head].ingress(t)}
		eg := [2]map[int]eval.PortSet{ev[base].egress(t), ev[head].egress(t)}
		if in[base] == nil || in[head] == nil {
			for s := 0; s < all; s++ {
				cand[pair{s, t}] = true
			}
		} else {
			for _, side := range in {
				for s := range side {
					cand[pair{s, t}] = true
				}
			}
		}
		if eg[base] == nil || eg[head] == nil {
			for d := 0; d < all; d++ {
				cand[pair{t, d}] = true
			}
		} else {
			for _, side := range eg {
				for d := range side {
					cand[pair{t, d}] = true
				}
			}
		}
	}
	for p := range cand {
		if p.s < u.nPod {
			x[p.s] = true
		}
		if p.d < u.nPod {
			x[p.d] = true
		}
	}
	if len(x) > len(touched) {
		if ev, err = build(x); err != nil {
			return flowSets{}, false, err
		}
	}
	pairs := make([]pair, 0, len(cand))
	for p := range cand {
		// Connections between two addresses outside the cluster are no
		// policy's business; a pod reaching itself is never isolated.
		if p.s != p.d && (p.s < u.nPod || p.d < u.nPod) && !u.isHost(p.s) {
			pairs = append(pairs, p)
		}
	}
	slices.SortFunc(pairs, func(a, b pair) int {
		if a.s != b.s {
			return a.s - b.s
		}
		return a.d - b.d
	})
	for _, p := range pairs {
		fs.addPair(u, p.s, p.d,
			ev[base].ingressPorts(p.s, p.d), ev[head].ingressPorts(p.s, p.d),
			ev[base].egressPorts(p.s, p.d), ev[head].egressPorts(p.s, p.d))
	}
	return fs, true, nil
}

// changedPolicies returns, per side, the indexes of the policies that the
// other side does not have as they are: added, removed or changed, by
// namespace and name, comparing what the evaluator reads (the defaulted
// spec).
func changedPolicies(pols [2][]*networkingv1.NetworkPolicy, eq equalObjects) [2][]int {
	type key struct{ ns, name string }
	var by [2]map[key][]int
	for side := range pols {
		by[side] = map[key][]int{}
		for k, p := range pols[side] {
			kk := key{p.Namespace, p.Name}
			by[side][kk] = append(by[side][kk], k)
		}
	}
	same := func(a, b []int) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if eq.equal(pols[base][a[i]], pols[head][b[i]]) {
				continue
			}
			pa, pb := eval.Default(pols[base][a[i]]), eval.Default(pols[head][b[i]])
			if pa.Namespace != pb.Namespace || !equalSpec(&pa.Spec, &pb.Spec) {
				return false
			}
		}
		return true
	}
	var out [2][]int
	for side := range pols {
		other := by[1-side]
		for kk, ks := range by[side] {
			a, b := ks, other[kk]
			if side == head {
				a, b = b, a
			}
			if !same(a, b) {
				out[side] = append(out[side], ks...)
			}
		}
		slices.Sort(out[side])
	}
	return out
}

// sideEval answers one side's ingress and egress on their own for pods of
// the universe, in the universe's endpoint numbering, caching each pod's
// side.
type sideEval struct {
	ev     *eval.Evaluator
	u      *universe
	addrEP []eval.Endpoint // per universe address class, the evaluator's class
	in, eg map[int]map[int]eval.PortSet
}

func newSideEval(ev *eval.Evaluator, u *universe) *sideEval {
	s := &sideEval{ev: ev, u: u, in: map[int]map[int]eval.PortSet{}, eg: map[int]map[int]eval.PortSet{}}
	for i := u.nPod; i < len(u.eps); i++ {
		s.addrEP = append(s.addrEP, u.external(ev, i))
	}
	return s
}

// ingress is what pod t's ingress admits, by universe endpoint; nil when
// nothing isolates it (every source on every port).
func (s *sideEval) ingress(t int) map[int]eval.PortSet {
	m, ok := s.in[t]
	if !ok {
		m = s.index(s.ev.IngressSide(t))
		s.in[t] = m
	}
	return m
}

// egress is what pod t's egress reaches, as ingress.
func (s *sideEval) egress(t int) map[int]eval.PortSet {
	m, ok := s.eg[t]
	if !ok {
		m = s.index(s.ev.EgressSide(t))
		s.eg[t] = m
	}
	return m
}

func (s *sideEval) index(admits []eval.Admit) map[int]eval.PortSet {
	if admits == nil {
		return nil
	}
	m := map[int]eval.PortSet{}
	var ext map[eval.Endpoint]eval.PortSet
	for _, a := range admits {
		if !a.Peer.External {
			m[a.Peer.Index] = a.Ports
			continue
		}
		if ext == nil {
			ext = map[eval.Endpoint]eval.PortSet{}
		}
		ext[a.Peer] = a.Ports
	}
	for i, ep := range s.addrEP {
		if ps, ok := ext[ep]; ok {
			m[s.u.nPod+i] = ps
		}
	}
	return m
}

// ingressPorts is what dst's ingress alone admits from src: every port
// when dst is an address or nothing isolates it.
func (s *sideEval) ingressPorts(src, dst int) eval.PortSet {
	if dst >= s.u.nPod {
		return eval.AllPorts()
	}
	m := s.ingress(dst)
	if m == nil {
		return eval.AllPorts()
	}
	return m[src]
}

// egressPorts is what src's egress alone lets it reach at dst, as
// ingressPorts.
func (s *sideEval) egressPorts(src, dst int) eval.PortSet {
	if src >= s.u.nPod {
		return eval.AllPorts()
	}
	m := s.egress(src)
	if m == nil {
		return eval.AllPorts()
	}
	return m[dst]
}

func sortedKeys(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func maps2(m map[int]bool) map[int]bool {
	out := make(map[int]bool, len(m))
	for k := range m {
		out[k] = true
	}
	return out
}

// equalObjects remembers which pairs of policies are equal as objects
// (reflect.DeepEqual, as equalPolicy answers it) for one comparison: the
// environments of a side share their base's policies, so each pair is
// compared once, not once per environment, by the flow diff and the object
// diff alike.
type equalObjects map[[2]*networkingv1.NetworkPolicy]bool

func (eq equalObjects) equal(a, b *networkingv1.NetworkPolicy) bool {
	if a == b {
		return true
	}
	k := [2]*networkingv1.NetworkPolicy{a, b}
	same, ok := eq[k]
	if !ok {
		same = equalPolicy(a, b)
		eq[k] = same
	}
	return same
}
