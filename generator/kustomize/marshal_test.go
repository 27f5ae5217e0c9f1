package kustomize

import (
	"bytes"
	"fmt"
	"math/rand"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/tests/synth"
)

// requireSameAsOracle fails unless Marshal writes p exactly as the
// sigs.k8s.io/yaml path does, and reports whether the direct emitter wrote
// it (rather than handing it to that path).
func requireSameAsOracle(t *testing.T, p *networkingv1.NetworkPolicy) bool {
	t.Helper()
	want, err := marshalViaJSON(p)
	direct, ok := appendPolicy(nil, p)
	if err != nil {
		// yaml.v2 cannot read its own JSON back for some strings (NEL,
		// DEL, U+FFFE): Marshal must fail too, not write something.
		if _, merr := Marshal(p); merr == nil || ok {
			t.Fatalf("policy %q/%q: sigs.k8s.io/yaml fails (%v) but Marshal does not (direct: %v)", p.Namespace, p.Name, err, ok)
		}
		return false
	}
	if ok && !bytes.Equal(direct, want) {
		t.Fatalf("policy %s/%s: direct emitter differs from sigs.k8s.io/yaml\n--- direct\n%s\n--- sigs.k8s.io/yaml\n%s", p.Namespace, p.Name, direct, want)
	}
	got, err := Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("policy %s/%s: Marshal differs from sigs.k8s.io/yaml\n--- Marshal\n%s\n--- sigs.k8s.io/yaml\n%s", p.Namespace, p.Name, got, want)
	}
	return ok
}

func generated(t *testing.T, files []schema.File) []*networkingv1.NetworkPolicy {
	t.Helper()
	set := generatedSet(t, files)
	ps := append([]*networkingv1.NetworkPolicy(nil), set.Base...)
	for _, o := range set.Overlays {
		ps = append(ps, o...)
	}
	return ps
}

// generatedSet is the policy set of files, which must load.
func generatedSet(t *testing.T, files []schema.File) *policy.Set {
	t.Helper()
	spec, probs := schema.Parse(files)
	if errs := probs.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	set, err := policy.Generate(spec)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestMarshalExamples: every policy of every example and of a synthetic
// organisation is written by the direct emitter, byte for byte as before.
func TestMarshalExamples(t *testing.T) {
	dirs, err := filepath.Glob("../../examples/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			files, probs := schema.ReadPaths([]string{dir})
			if errs := probs.Errors(); len(errs) > 0 {
				t.Fatal(errs)
			}
			for _, p := range generated(t, files) {
				if !requireSameAsOracle(t, p) {
					t.Errorf("policy %s/%s: not written by the direct emitter", p.Namespace, p.Name)
				}
			}
		})
	}
	t.Run("synth", func(t *testing.T) {
		n := 2000
		if testing.Short() {
			n = 300
		}
		for _, p := range generated(t, synth.Org(synth.Options{Services: n, Seed: 7})) {
			if !requireSameAsOracle(t, p) {
				t.Errorf("policy %s/%s: not written by the direct emitter", p.Namespace, p.Name)
			}
		}
	})
}

// quoted are strings yaml.v2 quotes, or reads as something else when
// plain, or sorts in its own order as keys; the direct emitter writes them.
var quoted = []string{
	"", "true", "True", "TRUE", "false", "yes", "Yes", "no", "on", "off", "y", "n", "~", "null", "Null",
	"1", "1.0", "-1", "+1", "0x1F", "0o17", "017", "1_000", "1e5", ".5", "-.5", "1.", ".inf", "-.Inf", ".nan", "+.INF",
	"0b101", "-0b101", "0b", "2001-12-14", "2001-12-14T21:59:43.10-05:00", "2001-12-14 21:59:43.10", "1:20", "190:20:30.15",
	"<<", "a: b", "a:b", "a :b", ":a", "?a", "? a", "-", "- a", "-a", "--", "---", "---a", "...", "..a",
	"#a", "a#b", "a #b", "a,b", "[a]", "{a}", "&a", "*a", "!a", "|a", ">a", "'a'", `"a"`, "%a", "@a", "`a",
	" lead", "trail ", "in side", "two  spaces", "it's", `say "hi"`, `back\slash`, "é", "naïve", "日本語",
	"\u00a0nbsp", "\ue000private", "\ufffd", strings.Repeat("k", 128),
	"app.kubernetes.io/name", "a10", "a9", "a010", "a01", "A", "Z", "_", "a_b", "aB", "a-b", "ab", "a~", "a2b", "a10b",
	"kubernetes.io/metadata.name", "team-007", "svc-00012",
}

// unusual are strings yaml.v2 escapes, folds, writes as a block or as a
// complex key, or cannot read back: the direct emitter leaves them to it.
var unusual = []string{
	"😀", "a\tb", "a\nb", "a\rb", "line\u2028sep", "\u0085nel", "\ufeffbom", "\x7f", "\x00", "\xff\xfe", "\ufffe",
	strings.Repeat("long words ", 12), strings.Repeat("k", 129),
}

func pick(r *rand.Rand) string {
	var s string
	switch n := r.Intn(100); {
	case n < 40:
		// a plain, label-like value
		return fmt.Sprintf("v%d-%s", r.Intn(100), []string{"api", "web", "db"}[r.Intn(3)])
	case n < 45:
		// words around the 80 columns where yaml.v2 folds
		var b strings.Builder
		for b.Len() < 30+r.Intn(70) {
			b.WriteString([]string{"word ", "a", "bb ", " ", "c: "}[r.Intn(5)])
		}
		return b.String()
	case n < 99:
		s = quoted[r.Intn(len(quoted))]
	default:
		s = unusual[r.Intn(len(unusual))]
	}
	if r.Intn(5) == 0 {
		s += quoted[r.Intn(len(quoted))]
	}
	return s
}

func randMap(r *rand.Rand, max int) map[string]string {
	n := r.Intn(max + 1)
	if n == 0 {
		if r.Intn(2) == 0 {
			return nil
		}
		return map[string]string{}
	}
	m := map[string]string{}
	for range n {
		m[pick(r)] = pick(r)
	}
	return m
}

func randSelector(r *rand.Rand) *metav1.LabelSelector {
	if r.Intn(3) == 0 {
		return nil
	}
	return &metav1.LabelSelector{MatchLabels: randMap(r, 3)}
}

func randPeers(r *rand.Rand) []networkingv1.NetworkPolicyPeer {
	var ps []networkingv1.NetworkPolicyPeer
	for range r.Intn(4) {
		var p networkingv1.NetworkPolicyPeer
		p.PodSelector = randSelector(r)
		p.NamespaceSelector = randSelector(r)
		if r.Intn(3) == 0 {
			b := &networkingv1.IPBlock{CIDR: pick(r)}
			for range r.Intn(3) {
				b.Except = append(b.Except, pick(r))
			}
			p.IPBlock = b
		}
		ps = append(ps, p)
	}
	return ps
}

func randPorts(r *rand.Rand) []networkingv1.NetworkPolicyPort {
	var ps []networkingv1.NetworkPolicyPort
	for range r.Intn(4) {
		var p networkingv1.NetworkPolicyPort
		if r.Intn(4) > 0 {
			v := intstr.FromInt32(int32(r.Intn(70000) - 100))
			p.Port = &v
		}
		if r.Intn(3) == 0 {
			end := int32(r.Intn(70000))
			p.EndPort = &end
		}
		if r.Intn(4) > 0 {
			proto := corev1.Protocol([]string{"TCP", "UDP", "SCTP"}[r.Intn(3)])
			if r.Intn(5) == 0 {
				proto = corev1.Protocol(pick(r))
			}
			p.Protocol = &proto
		}
		ps = append(ps, p)
	}
	return ps
}

func randPolicy(r *rand.Rand) *networkingv1.NetworkPolicy {
	p := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{
		Labels:      randMap(r, 3),
		Annotations: randMap(r, 3),
	}}
	if r.Intn(6) > 0 {
		p.Name = pick(r)
	}
	if r.Intn(6) > 0 {
		p.Namespace = pick(r)
	}
	if sel := randSelector(r); sel != nil {
		p.Spec.PodSelector = *sel
	}
	for range r.Intn(4) {
		p.Spec.Ingress = append(p.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{From: randPeers(r), Ports: randPorts(r)})
	}
	for range r.Intn(4) {
		p.Spec.Egress = append(p.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: randPeers(r), Ports: randPorts(r)})
	}
	for range r.Intn(3) {
		t := networkingv1.PolicyType([]string{"Ingress", "Egress"}[r.Intn(2)])
		if r.Intn(5) == 0 {
			t = networkingv1.PolicyType(pick(r))
		}
		p.Spec.PolicyTypes = append(p.Spec.PolicyTypes, t)
	}
	return p
}

// TestMarshalRandom compares Marshal and the direct emitter with the
// sigs.k8s.io/yaml path over thousands of random policies whose strings
// are chosen to be awkward, and checks that the direct emitter, not the
// fallback, wrote most of them.
func TestMarshalRandom(t *testing.T) {
	n := 5000
	if testing.Short() {
		n = 500
	}
	r := rand.New(rand.NewSource(1))
	direct := 0
	for range n {
		if requireSameAsOracle(t, randPolicy(r)) {
			direct++
		}
	}
	t.Logf("%d of %d random policies written directly", direct, n)
	if direct < n/4 {
		t.Errorf("only %d of %d random policies written directly; the comparison proves little", direct, n)
	}
}

// TestMarshalScalars puts each quoted and unusual string, alone, in every place a
// string goes, so each one's style is checked in isolation, and requires
// the direct emitter for the strings it should handle.
func TestMarshalScalars(t *testing.T) {
	for _, s := range append(append([]string(nil), quoted...), unusual...) {
		t.Run(fmt.Sprintf("%q", s), func(t *testing.T) {
			proto := corev1.Protocol(s)
			port := intstr.FromInt32(80)
			p := &networkingv1.NetworkPolicy{
				ObjectMeta: metav1.ObjectMeta{
					Name: s, Namespace: s,
					Labels:      map[string]string{s: s, "app": s},
					Annotations: map[string]string{policy.SourceAnnotation: s},
				},
				Spec: networkingv1.NetworkPolicySpec{
					PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{s: "x"}},
					Ingress: []networkingv1.NetworkPolicyIngressRule{{
						From:  []networkingv1.NetworkPolicyPeer{{IPBlock: &networkingv1.IPBlock{CIDR: s, Except: []string{s}}}},
						Ports: []networkingv1.NetworkPolicyPort{{Protocol: &proto, Port: &port}},
					}},
					PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyType(s)},
				},
			}
			ok := requireSameAsOracle(t, p)
			if slices.Contains(quoted, s) && !ok {
				t.Errorf("%q: left to sigs.k8s.io/yaml, want the direct emitter", s)
			}
		})
	}
}
