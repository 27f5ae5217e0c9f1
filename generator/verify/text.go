package verify

import (
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/netdep/netdep/generator/report"
)

// EnvLabel is how reports name an environment: its name, or "(single
// environment)" for the implicit one.
func EnvLabel(env string) string {
	if env == "" {
		return "(single environment)"
	}
	return env
}

// Summary is r's verdict on one line, as verify's text output prints it
// after the environment's name: "exact (...)" or "M missing, E in excess
// (...)", with the size of the world; qualified by Partial ("exact for
// networking.k8s.io/v1 only; 3 objects not evaluated (...)") when objects
// were not evaluated.
func (r *Report) Summary() string {
	pols := fmt.Sprintf("%d policies", r.Policies)
	if r.ClusterPolicies > 0 {
		pols += fmt.Sprintf(" and %d cluster %s", r.ClusterPolicies, map[bool]string{true: "policy", false: "policies"}[r.ClusterPolicies == 1])
	}
	if r.PluginPolicies > 0 {
		pols += fmt.Sprintf(" and %d plugin %s", r.PluginPolicies, plural(r.PluginPolicies, "policy", "policies"))
	}
	size := fmt.Sprintf("(%s over %d pods and %d address classes)", pols, r.Pods, r.Addresses)
	if r.Hosts > 0 {
		size = fmt.Sprintf("(%s over %d pods, %d address classes and %d %s)", pols, r.Pods, r.Addresses, r.Hosts, plural(r.Hosts, "host", "hosts"))
	}
	verdict := "exact"
	if !r.Exact() {
		verdict = fmt.Sprintf("%d missing, %d in excess", len(r.Missing), len(r.Excess))
	}
	if p := Partial(r.NotEvaluated); p != "" {
		verdict += " " + p
	}
	out := verdict + " " + size
	if a := r.Audit; a != nil {
		if t := a.Text(); t != "" {
			return t + " " + out
		}
		return fmt.Sprintf("%s; %d staged %s would be: %s", out, a.Staged, plural(a.Staged, "object", "objects"), a.WouldBe)
	}
	return out
}

// DifferenceText is one difference as verify's text output prints it,
// kind ("missing" or "excess") first, its reason on a second line; each
// line is prefixed by indent.
func DifferenceText(indent, kind string, d Difference) string {
	return fmt.Sprintf("%s%-8s %s -> %s %s\n%s         %s\n", indent, kind, d.Source, d.Destination, d.Ports, indent, d.Reason)
}

// directionTitle heads a direction's differences in the text output.
var directionTitle = map[string]string{
	Connection: "connections (both sides together, as the cluster enforces them today):",
	Ingress:    "ingress side on its own (every source's egress open):",
	Egress:     "egress side on its own (every destination's ingress open):",
	// The guardrail checks (guardrails.go).
	ClusterIngress: "cluster policies on their own, ingress side (no NetworkPolicy anywhere):",
	ClusterEgress:  "cluster policies on their own, egress side (no NetworkPolicy anywhere):",
	OpenIngress:    "admin tier, ingress side, over NetworkPolicies allowing everything:",
	OpenEgress:     "admin tier, egress side, over NetworkPolicies allowing everything:",
	ClosedIngress:  "admin tier, ingress side, over NetworkPolicies denying everything:",
	ClosedEgress:   "admin tier, egress side, over NetworkPolicies denying everything:",
}

// WriteText writes reports for people: each environment's summary, then
// its differences grouped by direction and by the policy responsible,
// missing before excess; last, when anything differs, a line that counts
// it all.
func WriteText(w io.Writer, reports []*Report) error {
	var b strings.Builder
	exact, missing, excess := 0, 0, 0
	for _, r := range reports {
		fmt.Fprintf(&b, "%s: %s\n", EnvLabel(r.Environment), r.Summary())
		if r.Exact() {
			exact++
		}
		missing += len(r.Missing)
		excess += len(r.Excess)
		if len(r.Overridden) > 0 {
			b.WriteString("  overridden by guardrails (declared, denied on purpose):\n")
			for _, o := range r.Overridden {
				fmt.Fprintf(&b, "    %s: %s, denied by %s\n", o.Source, o.Edge, o.Guardrail)
			}
		}
		if len(r.Exceptions) > 0 {
			b.WriteString("  allowed by exceptions (declared, open until they expire):\n")
			for _, x := range r.Exceptions {
				b.WriteString("    " + x.Text() + "\n")
			}
		}
		for _, dir := range []string{Connection, Ingress, Egress, ClusterIngress, ClusterEgress, OpenIngress, OpenEgress, ClosedIngress, ClosedEgress} {
			groups := map[string][]string{}
			var order []string
			add := func(kind string, ds []Difference) {
				for _, d := range ds {
					if d.Direction != dir {
						continue
					}
					if _, ok := groups[d.Policy]; !ok {
						order = append(order, d.Policy)
					}
					groups[d.Policy] = append(groups[d.Policy], DifferenceText("      ", kind, d))
				}
			}
			add("missing", r.Missing)
			add("excess", r.Excess)
			if len(order) == 0 {
				continue
			}
			b.WriteString("  " + directionTitle[dir] + "\n")
			sort.Strings(order)
			for _, p := range order {
				if p == "" {
					b.WriteString("    through sides no policy isolates:\n")
				} else {
					b.WriteString("    policy " + p + ":\n")
				}
				for _, line := range groups[p] {
					b.WriteString(line)
				}
			}
		}
	}
	if exact == len(reports) {
		_, err := io.WriteString(w, b.String())
		return err
	}
	envs := "environments"
	if len(reports) == 1 {
		envs = "environment"
	}
	fmt.Fprintf(&b, "verify: %d %s, %d exact, %d differ; %d missing, %d in excess\n",
		len(reports), envs, exact, len(reports)-exact, missing, excess)
	_, err := io.WriteString(w, b.String())
	return err
}

// Reports are verify's result over several environments, as a
// report.Report: text (WriteText) or JSON.
type Reports []*Report

// Formats are text and json.
func (rs Reports) Formats() []string { return []string{report.Text, report.JSON} }

// Write writes rs in format.
func (rs Reports) Write(w io.Writer, format string) error {
	switch format {
	case report.Text:
		return WriteText(w, rs)
	case report.JSON:
		return report.WriteJSON(w, []*Report(rs))
	}
	return report.UnknownFormat(format, rs)
}
