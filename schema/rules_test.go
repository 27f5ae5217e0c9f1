package schema

import (
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// sortAndDedupReference is the plain statement of what sortedUniqueRules
// does: a stable sort by (namespace, name, direction, source, peer), then
// the first of each identical rule.
func sortAndDedupReference(rules []Rule) []Rule {
	rules = append([]Rule(nil), rules...)
	sort.SliceStable(rules, func(i, j int) bool {
		a, b := rules[i], rules[j]
		if a.Service.Namespace != b.Service.Namespace {
			return a.Service.Namespace < b.Service.Namespace
		}
		if a.Service.Name != b.Service.Name {
			return a.Service.Name < b.Service.Name
		}
		if a.Direction != b.Direction {
			return a.Direction < b.Direction
		}
		if a.Source != b.Source {
			return posLess(a.Source, b.Source)
		}
		return peerKey(a.Peer) < peerKey(b.Peer)
	})
	seen := map[string]bool{}
	var out []Rule
	for _, r := range rules {
		var b strings.Builder
		b.WriteString(r.Service.ID() + " " + string(r.Direction) + " " + peerKey(r.Peer))
		if r.AnyPort {
			b.WriteString(" any")
		}
		for _, p := range r.Ports {
			b.WriteString(" " + p.String())
		}
		if k := b.String(); !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	return out
}

// TestSortedUniqueRules compares the bucketed sort with the reference over
// random rule lists full of ties: few services (two of them distinct
// objects with one name), few sources, duplicate rules, every peer kind
// (hosts, and pinned hosts' blocks beside the same literal block),
// small and large buckets.
func TestSortedUniqueRules(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var svcs []*Service
	for _, ns := range []string{"a", "b", "shop"} {
		for _, name := range []string{"api", "web", "db10", "db9"} {
			svcs = append(svcs, &Service{Namespace: ns, Name: name})
		}
	}
	svcs = append(svcs, &Service{Namespace: "a", Name: "api"}) // same name, other object
	peers := []Peer{
		{Kind: PeerService, Service: svcs[1]},
		{Kind: PeerService, Service: svcs[5]},
		{Kind: PeerCIDR, CIDR: "10.0.0.0/8"},
		{Kind: PeerCIDR, CIDR: "9.0.0.0/8", Except: []string{"9.1.0.0/16"}},
		{Kind: PeerCIDR, CIDR: "10.0.0.0/8", CIDRName: "corp"},
		{Kind: PeerSelector, Namespace: "monitoring", Selector: map[string]string{"app": "prometheus"}},
		{Kind: PeerSelector, Namespace: "monitoring"},
		{Kind: PeerHost, Host: "api.stripe.com"},
		{Kind: PeerHost, Host: "*.googleapis.com"},
		// A pinned host's block, and the same block as a literal cidr:
		// two peers, ordered by the host.
		{Kind: PeerCIDR, CIDR: "10.0.0.0/8", Host: "api.stripe.com"},
		{Kind: PeerCIDR, CIDR: "10.0.0.0/8", Host: "*.stripe.com"},
	}
	ports := [][]Port{nil, {{Protocol: corev1.ProtocolTCP, Port: 80}}, {{Protocol: corev1.ProtocolUDP, Port: 53}, {Protocol: corev1.ProtocolTCP, Port: 8000, EndPort: 8100}}}
	for round := range 300 {
		var rules []Rule
		// Odd rounds make buckets (rules of one service) of more than 64
		// rules, which are deduplicated through a map.
		for range r.Intn([]int{60, 600}[round%2]) {
			rule := Rule{
				Service:   svcs[r.Intn(len(svcs))],
				Direction: []Direction{Ingress, Egress}[r.Intn(2)],
				Peer:      peers[r.Intn(len(peers))],
				Ports:     ports[r.Intn(len(ports))],
				AnyPort:   r.Intn(4) == 0,
				Source:    Pos{File: []string{"a.yaml", "b.yaml"}[r.Intn(2)], Line: r.Intn(4), Column: r.Intn(2)},
			}
			rules = append(rules, rule)
			if r.Intn(4) == 0 {
				rules = append(rules, rule) // an exact duplicate
			}
		}
		want := sortAndDedupReference(rules)
		got := sortedUniqueRules(append([]Rule(nil), rules...))
		if len(want) == 0 && len(got) == 0 {
			continue
		}
		// Compare identities too: the same *Service must be kept.
		same := len(got) == len(want)
		for i := 0; same && i < len(got); i++ {
			same = got[i].Service == want[i].Service && got[i].Peer.Service == want[i].Peer.Service
		}
		if diff := cmp.Diff(want, got); diff != "" || !same {
			t.Fatalf("round %d: sortedUniqueRules differs from the reference (-want +got):\n%s", round, diff)
		}
	}
}

// TestSelectorOverlapProperty: on random selectors the indexed check flags
// exactly the services the pairwise definition does: a service whose
// selector is a strict subset of another's, or equal to an earlier one's.
func TestSelectorOverlapProperty(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := range 300 {
		n := 2 + rng.Intn(10)
		sels := make([]map[string]string, n)
		var doc strings.Builder
		doc.WriteString("netdep: v1\nnamespace: shop\nservices:\n")
		for i := range sels {
			sels[i] = map[string]string{}
			for _, k := range []string{"a", "b", "c"} {
				if rng.Intn(2) == 0 {
					sels[i][k] = []string{"x", "y"}[rng.Intn(2)]
				}
			}
			if len(sels[i]) == 0 {
				sels[i]["a"] = "x"
			}
			doc.WriteString("  s" + string(rune('a'+i)) + ":\n    selector: {")
			first := true
			for _, k := range sortedKeys(sels[i]) {
				if !first {
					doc.WriteString(", ")
				}
				first = false
				doc.WriteString(k + ": " + sels[i][k])
			}
			doc.WriteString("}\n")
		}
		want := map[string]bool{}
		for i := range sels {
			for j := range sels {
				if i == j || !subsetOf(sels[i], sels[j]) {
					continue
				}
				if !subsetOf(sels[j], sels[i]) || j < i {
					want["services.s"+string(rune('a'+i))+".selector"] = true
				}
			}
		}
		_, probs := Parse([]File{{Path: "deps.yaml", Data: []byte(doc.String()), Explicit: true}})
		got := map[string]bool{}
		for _, p := range probs.Errors() {
			got[p.Field] = true
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Fatalf("iteration %d (-pairwise +indexed):\n%s\n%s", iter, d, doc.String())
		}
	}
}
