package importer

import (
	"fmt"
	"strings"

	"github.com/netdep/netdep/generator/verify"
)

// Result is what an import produces.
type Result struct {
	// Files are the dependency files, one per namespace, sorted by name.
	Files []File
	// Policies and Workloads count what an import of policies read.
	Policies, Workloads int
	// Observations counts what an import of flows imported.
	Observations int
	// Check is verify's report on the imported files against the original
	// policies: what `netdep verify OUT --manifests MANIFESTS` prints.
	// Nil for an import of flows.
	Check *verify.Report
	// Effective compares connectivity with the ClusterNetworkPolicies of
	// the manifests on both sides: the generated policies with them
	// against the original policies with them. Nil without any.
	Effective *EffectiveCheck
	// Differences are Check's, missing then excess as verify lists them,
	// each with the import's reason for it.
	Differences []Difference
	// Approximations are rules the import changed in ways the check
	// cannot see (verify's world has only what the imported files
	// describe), each naming the original rule, sorted.
	Approximations []string
	// Notes are findings that change no connection: what was left out and
	// why, suggestions, sorted.
	Notes []string
}

// Difference is one connection the imported files allow differently from
// the original policies, in verify's words: "excess" when the original
// policies allow what the imported files do not declare (the generated
// policies would cut it), "missing" when the imported files declare what
// the original policies deny.
type Difference struct {
	Kind string `json:"kind"`
	verify.Difference
	// Why is the import's reason.
	Why string `json:"why"`
}

// Exact reports whether the imported files allow exactly what the input
// did, as far as verify can see.
func (r *Result) Exact() bool { return (r.Check == nil || r.Check.Exact()) && r.Effective.Exact() }

// Text writes r for people: differences grouped by reason, each as verify
// prints it, then approximations and notes.
func (r *Result) Text() string {
	var b strings.Builder
	var order []string
	groups := map[string][]Difference{}
	for _, d := range r.Differences {
		k := d.Kind + ": " + d.Why
		if _, ok := groups[k]; !ok {
			order = append(order, k)
		}
		groups[k] = append(groups[k], d)
	}
	for _, k := range order {
		b.WriteString(k + "\n")
		for _, d := range groups[k] {
			b.WriteString(verify.DifferenceText("  ", d.Kind, d.Difference))
		}
	}
	for _, a := range r.Approximations {
		fmt.Fprintf(&b, "approximation: %s\n", a)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	b.WriteString(r.Effective.Text())
	return b.String()
}

// joinList writes items as "a, b and c".
func joinList(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}
