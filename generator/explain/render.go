package explain

import (
	"slices"
	"strconv"
	"strings"

	"github.com/netdep/netdep/generator/eval"
)

// String is the report as `netdep explain` prints it: with several
// environments, each under its name, separated by blank lines.
func (r *Report) String() string {
	var b strings.Builder
	several := len(r.Environments) > 1
	for i, e := range r.Environments {
		if i > 0 {
			b.WriteString("\n")
		}
		if e.Skipped != nil {
			b.WriteString(e.Environment + ": skipped: " + e.Skipped.Error() + "\n")
			continue
		}
		switch {
		case e.Audit != "":
			b.WriteString(envLabel(e.Environment) + " (" + e.Audit + "):\n")
		case several:
			b.WriteString(envLabel(e.Environment) + ":\n")
		}
		for _, a := range e.Answers {
			b.WriteString(a.String())
		}
	}
	return b.String()
}

func envLabel(env string) string {
	if env == "" {
		return "(single environment)"
	}
	return env
}

// String is the verdict line, then what egress at SRC and ingress at DST
// decide, one line each.
func (a Answer) String() string {
	verdict := "denied"
	if a.Verdict.Allowed {
		verdict = "allowed"
	}
	on := a.Port.Label
	if i := strings.Index(on, " ("); i >= 0 {
		on = on[:i]
	}
	return verdict + ": " + a.Src.Text + " -> " + a.Dst.Text + " on " + a.Port.Label + "\n" +
		"  egress at " + a.Src.Text + ": " + a.describe(a.Src, a.Verdict.Egress, "egress", "lets it reach "+a.Dst.Text+" on "+on) + "\n" +
		"  ingress at " + a.Dst.Text + ": " + a.describe(a.Dst, a.Verdict.Ingress, "ingress", "admits "+a.Src.Text+" on "+on) + "\n" +
		a.exceptionLines() + a.noteLines()
}

func (a Answer) noteLines() string {
	var b strings.Builder
	for _, n := range a.Notes {
		b.WriteString("  note: " + n + "\n")
	}
	return b.String()
}

// exceptionLines names the exceptions an allowed connection rests on: one
// line each, whichever sides their policies allow it on.
func (a Answer) exceptionLines() string {
	if !a.Verdict.Allowed {
		return ""
	}
	var b strings.Builder
	seen := map[string]bool{}
	for _, d := range []eval.Direction{a.Verdict.Egress, a.Verdict.Ingress} {
		if d.Cluster != nil {
			continue
		}
		for _, r := range d.Allowing {
			x, ok := a.Exceptions[r.PolicyRef]
			if !ok || seen[x.Name] {
				continue
			}
			seen[x.Name] = true
			b.WriteString("  allowed by exception " + x.Name + ", expires " + x.Expires + ", owner " + x.Owner)
			if x.Reason != "" {
				b.WriteString(": " + x.Reason)
			}
			b.WriteString("\n")
		}
	}
	return b.String()
}

func (a Answer) describe(self Endpoint, d eval.Direction, dir, what string) string {
	switch {
	case self.Host != "":
		return "a host outside the cluster; policies do not isolate it"
	case self.IsAddr:
		return "an address outside the cluster; policies do not isolate it"
	case d.Cluster != nil && d.Allowed:
		return "allowed by " + d.Cluster.String()
	case d.Cluster != nil:
		return "denied by " + d.Cluster.String()
	case d.Pass != nil:
		return a.describe(self, eval.Direction{Allowed: d.Allowed, Isolating: d.Isolating, Allowing: d.Allowing}, dir, what) + " (after " + d.Pass.String() + " passed it on)"
	case len(d.Isolating) == 0:
		return "not isolated (no policy selects it for " + dir + ")"
	case d.Allowed:
		rules := make([]string, len(d.Allowing))
		for i, r := range d.Allowing {
			rules[i] = r.PolicyRef.String() + " " + dir + "[" + strconv.Itoa(r.Rule) + "]"
			if src := a.Sources[r.PolicyRef]; src != "" {
				rules[i] += " (" + src + ")"
			}
		}
		return "allowed by " + strings.Join(rules, ", ")
	}
	pols := make([]string, len(d.Isolating))
	for i, p := range d.Isolating {
		pols[i] = p.String()
	}
	slices.Sort(pols)
	return "isolated by " + strings.Join(pols, ", ") + "; no rule " + what
}
