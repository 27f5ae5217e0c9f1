package e2e

import (
	"fmt"
	"io"
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
