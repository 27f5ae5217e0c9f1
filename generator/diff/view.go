package diff

import (
	"fmt"
	"slices"
	"strings"

	"github.com/netdep/netdep/schema"
)

// What the text and markdown formats show of a report, computed once so
// that they agree: environments with identical changes as one group, and
// per group its flows as lines (a connection whose ports changed is one
// line, not an added and a removed one).

// envGroup is environments whose changes are identical, shown once.
type envGroup struct {
	Names []string
	Env   *EnvReport // the first of them
}

// title is "dev, prod, staging" or "(no environments)", followed by the
// environments' mode when they are in mode: audit (every environment of a
// group shares it): "dev (audit: would be)".
func (g envGroup) title(name func(string) string) string {
	s := make([]string, len(g.Names))
	for i, n := range g.Names {
		s[i] = name(n)
	}
	return strings.Join(s, ", ") + g.Env.Audit.Suffix()
}

// groups are r's environments grouped by identical changes, in the order
// of their first environment.
func (r *Report) groups() []envGroup {
	var out []envGroup
	index := map[string]int{}
	for i := range r.Environments {
		e := &r.Environments[i]
		k := flowsKey(e) + "\x01" + objectsKey(e) + "\x01" + e.Audit.Suffix()
		if j, ok := index[k]; ok {
			out[j].Names = append(out[j].Names, e.Name)
			continue
		}
		index[k] = len(out)
		out = append(out, envGroup{Names: []string{e.Name}, Env: e})
	}
	return out
}

// flowLine is one flow as shown: "+", "-", or "~" for a connection whose
// ports changed (Before -> After).
type flowLine struct {
	Sign          string
	From, To      Endpoint
	Ports         []Port // "+" and "-"
	Before, After []Port // "~"
	Direction     Direction
	Sources       []schema.Pos
	// Was marks Sources as the base's lines: a removed flow's, which
	// the head may no longer have.
	Was    bool
	Origin string
	Risks  []Risk
	// Exception is the exception that opens the flow, when one does.
	Exception *FlowException
}

// changedConnection says whether f changes a connection that exists on
// both sides.
func changedConnection(f Flow) bool {
	return f.Direction == "" && len(f.Before) > 0 && len(f.After) > 0
}

// flowLines are e's flows as shown: the connections whose ports changed,
// then the flows added and the flows removed (one-sided ones among them),
// each sorted by source, then destination.
func flowLines(e *EnvReport) (changed, added, removed []flowLine) {
	type pair struct{ from, to string }
	ch := map[pair]int{}
	for _, part := range []struct {
		flows []Flow
		add   bool
	}{{e.FlowsAdded, true}, {e.FlowsRemoved, false}} {
		for _, f := range part.flows {
			if !changedConnection(f) {
				continue
			}
			k := pair{f.From.String(), f.To.String()}
			i, ok := ch[k]
			if !ok {
				i = len(changed)
				ch[k] = i
				changed = append(changed, flowLine{Sign: "~", From: f.From, To: f.To, Before: f.Before, After: f.After,
					Sources: f.Sources, Was: !part.add, Origin: f.Origin})
			}
			// The lines of what the head adds say most about the change;
			// the base's lines stand in when it only narrows.
			if l := &changed[i]; part.add {
				l.Sources, l.Was, l.Risks, l.Origin, l.Exception = f.Sources, false, f.Risks, f.Origin, f.Exception
			}
		}
	}
	slices.SortStableFunc(changed, func(a, b flowLine) int {
		return compareFlows(Flow{From: a.From, To: a.To}, Flow{From: b.From, To: b.To})
	})
	line := func(sign string, f Flow) flowLine {
		return flowLine{Sign: sign, From: f.From, To: f.To, Ports: f.Ports, Direction: f.Direction, Sources: f.Sources, Was: sign == "-", Origin: f.Origin, Risks: f.Risks, Exception: f.Exception}
	}
	for _, f := range merged(e.FlowsAdded, e.OneSidedAdded) {
		if !changedConnection(f) {
			added = append(added, line("+", f))
		}
	}
	for _, f := range merged(e.FlowsRemoved, e.OneSidedRemoved) {
		if !changedConnection(f) {
			removed = append(removed, line("-", f))
		}
	}
	return changed, added, removed
}

// portsText is "50051/TCP", or "7070/TCP -> 7071/TCP" for a change.
// An exception that opens the flow follows: "(exception E, expires D)".
func (l flowLine) portsText(arrow string) string {
	s := PortsString(l.Ports) + l.Direction.suffix()
	if l.Sign == "~" {
		s = PortsString(l.Before) + " " + arrow + " " + PortsString(l.After)
	}
	return s + exceptionNote(l.Exception)
}

// sourceText is where the flow comes from: "teams/shop.yaml:8:9", or why
// no dependency-file line causes it.
func (l flowLine) sourceText() string {
	pos := make([]string, len(l.Sources))
	for i, p := range l.Sources {
		pos[i] = p.String()
	}
	s := strings.Join(pos, ", ")
	if l.Was && s != "" {
		s = "was " + s
	}
	switch l.Origin {
	case OriginDNS:
		return strings.TrimSpace(s + " (cluster DNS)")
	case OriginIsolation:
		return strings.TrimSpace(s + " (namespace isolation changed)")
	case OriginTree:
		if s != "" {
			return s + " declares it on both sides: a committed tree differs (stale or hand-edited)"
		}
		return "no dependency-file line: the committed tree (stale or hand-edited)"
	case OriginUnknown:
		return "no dependency-file line"
	}
	return s
}

// risksText is "cross-namespace, egress-external", "" for none.
func (l flowLine) risksText() string {
	s := make([]string, len(l.Risks))
	for i, r := range l.Risks {
		s[i] = string(r)
	}
	return strings.Join(s, ", ")
}

// groupSummary is "flows +2 -1 ~1, policies +1 -0 ~2" or "no change".
func groupSummary(e *EnvReport) string {
	if !e.Changed() {
		return "no change"
	}
	changed, added, removed := flowLines(e)
	one := ""
	if n, m := len(e.OneSidedAdded), len(e.OneSidedRemoved); n+m > 0 {
		one = fmt.Sprintf(" (one-sided +%d -%d)", n, m)
	}
	return fmt.Sprintf("flows +%d -%d ~%d%s, policies +%d -%d ~%d",
		len(added), len(removed), len(changed), one, e.Count(Added), e.Count(Removed), e.Count(Changed))
}
