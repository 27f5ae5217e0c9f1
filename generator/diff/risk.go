package diff

import (
	"fmt"
	"slices"
	"strings"
)

// Risk is a class of added flow a reviewer should look at twice. The names
// are what `netdep diff --fail-on` takes.
type Risk string

const (
	// RiskExternal is a new flow from addresses outside the cluster.
	RiskExternal Risk = "external"
	// RiskEgressExternal is new egress to addresses outside the cluster.
	RiskEgressExternal Risk = "egress-external"
	// RiskCrossNamespace is a new flow between pods of two namespaces.
	RiskCrossNamespace Risk = "cross-namespace"
	// RiskSensitive is a new flow into a namespace marked sensitive.
	RiskSensitive Risk = "sensitive"
)

// Risks are every risk class, in the order reports list them.
var Risks = []Risk{RiskExternal, RiskEgressExternal, RiskCrossNamespace, RiskSensitive}

// ParseRisks reads a --fail-on list: risk class names, or "any" for all.
func ParseRisks(names []string) ([]Risk, error) {
	var out []Risk
	for _, n := range names {
		n = strings.TrimSpace(n)
		switch {
		case n == "any":
			out = append(out, Risks...)
		case slices.Contains(Risks, Risk(n)):
			out = append(out, Risk(n))
		default:
			return nil, fmt.Errorf("unknown risk class %q (expected %s or any)", n, riskList())
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func riskList() string {
	s := make([]string, len(Risks))
	for i, r := range Risks {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// label is the risk for people.
func (r Risk) label() string {
	switch r {
	case RiskExternal:
		return "from outside the cluster"
	case RiskEgressExternal:
		return "egress outside the cluster"
	case RiskCrossNamespace:
		return "cross-namespace"
	case RiskSensitive:
		return "into a sensitive namespace"
	}
	return string(r)
}

// FlagRisks marks every added connection (FlowsAdded; one-sided flows open
// no connection) with the risk classes it falls in. The namespaces whose
// new inbound flows are flagged are, per environment, those the head's
// project file marks sensitive there plus extra (a command's own, e.g.
// `diff --sensitive`); r.Sensitive becomes all of them. Compare flags with
// the project file's alone; a command calls it again with its own.
func (r *Report) FlagRisks(extra []string) {
	var all []string
	for i := range r.Environments {
		e := &r.Environments[i]
		sensitive := slices.Compact(slices.Sorted(slices.Values(append(slices.Clone(e.sensitive), extra...))))
		all = append(all, sensitive...)
		for j := range e.FlowsAdded {
			f := &e.FlowsAdded[j]
			f.Risks = risksOf(*f, sensitive)
		}
	}
	r.Sensitive = slices.Compact(slices.Sorted(slices.Values(all)))
}

func risksOf(f Flow, sensitive []string) []Risk {
	var out []Risk
	pod := func(e Endpoint) bool { return e.Kind != KindExternal && e.Kind != KindHost }
	ns := func(e Endpoint) string {
		if e.Kind == KindUnmanaged {
			return "\x00unmanaged"
		}
		return e.Namespace
	}
	if f.From.Kind == KindExternal {
		out = append(out, RiskExternal)
	}
	if f.To.Kind == KindExternal || f.To.Kind == KindHost {
		out = append(out, RiskEgressExternal)
	}
	if pod(f.From) && pod(f.To) && ns(f.From) != ns(f.To) {
		out = append(out, RiskCrossNamespace)
	}
	if pod(f.To) && f.To.Kind != KindUnmanaged && slices.Contains(sensitive, f.To.Namespace) && ns(f.From) != f.To.Namespace {
		out = append(out, RiskSensitive)
	}
	return out
}

// RiskCount is how many distinct added flows fall in a risk class, over
// every environment (a flow in several environments counts once).
type RiskCount struct {
	Risk  Risk
	Flows int
}

// RiskCounts counts the flagged flows per class, every class listed.
func (r *Report) RiskCounts() []RiskCount {
	seen := map[Risk]map[string]bool{}
	for i := range r.Environments {
		for _, f := range r.Environments[i].FlowsAdded {
			for _, k := range f.Risks {
				if seen[k] == nil {
					seen[k] = map[string]bool{}
				}
				seen[k][f.From.String()+">"+f.To.String()+":"+PortsString(f.Ports)] = true
			}
		}
	}
	out := make([]RiskCount, len(Risks))
	for i, k := range Risks {
		out[i] = RiskCount{k, len(seen[k])}
	}
	return out
}

// HasRisk reports whether any added flow falls in one of the classes.
func (r *Report) HasRisk(classes []Risk) bool {
	for _, c := range r.RiskCounts() {
		if c.Flows > 0 && slices.Contains(classes, c.Risk) {
			return true
		}
	}
	return false
}

// riskSummary is "risk: 1 cross-namespace, 1 egress outside the cluster"
// or "risk: none".
func (r *Report) riskSummary() string {
	var parts []string
	for _, c := range r.RiskCounts() {
		if c.Flows > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.Flows, c.Risk.label()))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}
