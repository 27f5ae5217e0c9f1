package e2e

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Truth-table cells.
const (
	cellAllowed     = '+' // oracle allows, packet passed
	cellDenied      = '.' // oracle denies, packet blocked
	cellMissing     = 'X' // oracle allows, packet blocked: a declared flow is cut
	cellExtra       = '!' // oracle denies, packet passed: an undeclared flow is open
	cellUnreachable = '?' // neither: the test bed failed (misrouted, error)
)

func cell(c Check) byte {
	switch {
	case c.Got == Misrouted || c.Got == Errored:
		return cellUnreachable
	case c.Expect && c.Got == Passed:
		return cellAllowed
	case !c.Expect && c.Got != Passed:
		return cellDenied
	case c.Expect:
		return cellMissing
	default:
		return cellExtra
	}
}

// WriteTable prints a phase as a truth table: one row per (source, target)
// pair, one column per probe port, then every mismatch in words. With full
// false only the summary and the mismatches are printed (for the negative
// control, whose table is all '+').
func WriteTable(w io.Writer, u *Universe, ph *Phase, full bool) {
	probes, _ := u.ProbePorts()
	fmt.Fprintf(w, "\n== %s (oracle: %s): %d flows, %d as expected, %d not, probed in %s\n",
		ph.Name, ph.Oracle, len(ph.Checks), len(ph.Checks)-ph.Failed(), ph.Failed(), ph.Took.Round(1e6))
	if full {
		width := 0
		for _, e := range u.Endpoints() {
			width = max(width, len(e.ID()))
		}
		fmt.Fprintf(w, "legend: %c allowed+passed  %c denied+blocked  %c allowed but BLOCKED  %c denied but PASSED  %c test bed error\n",
			cellAllowed, cellDenied, cellMissing, cellExtra, cellUnreachable)
		// Column headers, written vertically so one port is one character.
		labels := make([]string, len(probes))
		tall := 0
		for i, p := range probes {
			labels[i] = p.String()
			tall = max(tall, len(labels[i]))
		}
		for row := 0; row < tall; row++ {
			var b strings.Builder
			b.WriteString(strings.Repeat(" ", 2*width+6))
			for _, l := range labels {
				pad := tall - len(l)
				if row < pad {
					b.WriteByte(' ')
				} else {
					b.WriteByte(l[row-pad])
				}
			}
			fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
		}
		i := 0
		for i < len(ph.Checks) {
			c := ph.Checks[i]
			var b strings.Builder
			fmt.Fprintf(&b, "%-*s -> %-*s  ", width, c.From.ID(), width, c.To.ID())
			for j := range probes {
				b.WriteByte(cell(ph.Checks[i+j]))
			}
			fmt.Fprintln(w, b.String())
			i += len(probes)
		}
	}
	for _, c := range ph.Checks {
		if c.OK() && cell(c) != cellUnreachable {
			continue
		}
		want := "denied"
		if c.Expect {
			want = "allowed"
		}
		detail := ""
		if c.Detail != "" {
			detail = " (" + c.Detail + ")"
		}
		fmt.Fprintf(w, "MISMATCH %s -> %s %s: oracle says %s, probe %s%s\n",
			c.From.ID(), c.To.ID(), c.Probe, want, c.Got, detail)
	}
}

// AgentTally is one agent's share of a run of the suite.
type AgentTally struct {
	Agent     string
	Scenarios int      // scenarios it ran to the end
	Aborted   int      // scenarios that stopped before the end (a failure each)
	Skipped   []string // scenarios whose APIs it does not enforce
	Probes    int      // packets' fates observed: both sweeps, every flow
	Passed    int      // verdicts as the oracle said: each probe against each oracle
	Failed    int      // verdicts that were not, plus Aborted
}

// RunTally is one (scenario, agent) run's share of its agent's tally.
type RunTally struct {
	Scenario, Agent        string
	Probes, Passed, Failed int
	Finished               bool
}

// Tally is the suite's result per agent, per scenario and agent, and
// between agents.
type Tally struct {
	Agents []*AgentTally
	Runs   []*RunTally
	// Compared counts the scenarios and flows that two or more agents
	// enforced; Disagreed the flows where they did not enforce alike.
	Compared, ComparedFlows, Disagreed int
	// Unenforceable are the scenarios no agent here can enforce, with why;
	// they are named, neither run nor failed.
	Unenforceable []Unenforceable
	// NotEnforced are the plugin objects (Cilium, Calico) of the scenarios
	// run, which no agent here enforces, by scenario; Unprobed the host
	// flows, which have no address. Neither is counted as passed.
	NotEnforced []Named
	Unprobed    []Named
}

// Named is one line of the tally about a scenario.
type Named struct{ Scenario, What string }

// AddScenario records what sc leaves out: its plugin objects and its host
// flows.
func (t *Tally) AddScenario(sc *Scenario) {
	for _, p := range sc.NotEnforced {
		t.NotEnforced = append(t.NotEnforced, Named{sc.Name, p.String()})
	}
	for _, h := range sc.Unprobed {
		t.Unprobed = append(t.Unprobed, Named{sc.Name, h.String()})
	}
}

// Unenforceable is a scenario no agent the suite knows can enforce.
type Unenforceable struct{ Scenario, Reason string }

// NewTally starts a tally for the agent kinds in order.
func NewTally(kinds []AgentKind) *Tally {
	t := &Tally{}
	for _, k := range kinds {
		t.Agents = append(t.Agents, &AgentTally{Agent: k.Name})
	}
	return t
}

// Agent returns the tally of the agent of that name.
func (t *Tally) Agent(name string) *AgentTally {
	for _, a := range t.Agents {
		if a.Agent == name {
			return a
		}
	}
	panic("e2e: no tally for agent " + name)
}

// Add counts a run's phases (and the run itself, if it did not finish) for
// its agent, and records the run's own figures.
func (t *Tally) Add(r *Run, agent string, finished bool) {
	rt := &RunTally{Scenario: r.Scenario.Name, Agent: agent, Finished: finished}
	if len(r.Phases) > 0 {
		rt.Probes += len(r.Phases[0].Checks) // the negative control
	}
	rt.Probes += len(r.Enforced) // one sweep, judged once per oracle
	for _, ph := range r.Phases {
		for _, c := range ph.Checks {
			if c.OK() {
				rt.Passed++
			} else {
				rt.Failed++
			}
		}
	}
	if !finished {
		rt.Failed++
	}
	t.Runs = append(t.Runs, rt)
	a := t.Agent(agent)
	a.Probes += rt.Probes
	a.Passed += rt.Passed
	a.Failed += rt.Failed
	if finished {
		a.Scenarios++
	} else {
		a.Aborted++
	}
}

// Totals are every agent's verdicts together; a disagreement between agents
// is a failure of its own.
func (t *Tally) Totals() (passed, failed int) {
	for _, a := range t.Agents {
		passed += a.Passed
		failed += a.Failed
	}
	return passed, failed + t.Disagreed
}

// Write prints one line per agent, the comparison between agents, and
// `N passed, N failed` as the last line.
func (t *Tally) Write(w io.Writer) {
	width := 0
	for _, a := range t.Agents {
		width = max(width, len(a.Agent))
	}
	fmt.Fprintf(w, "\n== per agent (probes: packets sent in the negative control and the enforcement sweep; verdicts: each probe against each oracle)\n")
	for _, a := range t.Agents {
		fmt.Fprintf(w, "%-*s  %d scenarios, %s probes, %s verdicts as expected, %s not", width, a.Agent, a.Scenarios, thousands(a.Probes), thousands(a.Passed), thousands(a.Failed))
		if a.Aborted > 0 {
			fmt.Fprintf(w, " (%d scenarios did not finish)", a.Aborted)
		}
		if len(a.Skipped) > 0 {
			fmt.Fprintf(w, "; not run (APIs it does not enforce): %s", strings.Join(a.Skipped, ", "))
		}
		fmt.Fprintln(w)
	}
	if len(t.Agents) > 1 {
		fmt.Fprintf(w, "agents compared on %d scenarios, %s flows: %s disagreements\n", t.Compared, thousands(t.ComparedFlows), thousands(t.Disagreed))
	}
	if len(t.Runs) > 0 {
		sw := 0
		for _, r := range t.Runs {
			sw = max(sw, len(r.Scenario))
		}
		fmt.Fprintf(w, "\n== per scenario and agent\n")
		for _, r := range t.Runs {
			fmt.Fprintf(w, "%-*s  %-*s  %s probes, %s verdicts as expected, %s not", sw, r.Scenario, width, r.Agent, thousands(r.Probes), thousands(r.Passed), thousands(r.Failed))
			if !r.Finished {
				fmt.Fprint(w, " (did not finish)")
			}
			fmt.Fprintln(w)
		}
	}
	if len(t.Unenforceable) > 0 {
		fmt.Fprintf(w, "\n== not enforceable by any agent here (not run, not failed)\n")
		for _, u := range t.Unenforceable {
			fmt.Fprintf(w, "%s: %s\n", u.Scenario, strings.ReplaceAll(u.Reason, "\n", "; "))
		}
	}
	if len(t.NotEnforced) > 0 {
		fmt.Fprintf(w, "\n== not enforced by any agent here (created in the API server when its CRDs are at hand; oracles computed over the NetworkPolicies)\n")
		for _, n := range t.NotEnforced {
			fmt.Fprintf(w, "%s: %s\n", n.Scenario, n.What)
		}
	}
	if len(t.Unprobed) > 0 {
		fmt.Fprintf(w, "\n== not probed: host flows (egress by DNS name have no address here; not counted)\n")
		for _, n := range t.Unprobed {
			fmt.Fprintf(w, "%s: %s\n", n.Scenario, n.What)
		}
	}
	passed, failed := t.Totals()
	fmt.Fprintf(w, "\n%d passed, %d failed\n", passed, failed)
}

// thousands writes n with comma separators, as the README quotes figures.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
