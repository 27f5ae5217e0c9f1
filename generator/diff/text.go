package diff

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
)

// TextOptions control the text format.
type TextOptions struct {
	// Color marks additions green, removals red and hunk headers cyan, for
	// a terminal.
	Color bool
}

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) line(format string, args ...any) {
	fmt.Fprintf(t.w, format, args...)
	t.w.WriteByte('\n')
}

// diff writes a unified diff, coloured line by line.
func (t *textWriter) diff(d string) {
	for _, l := range strings.SplitAfter(d, "\n") {
		if l == "" {
			continue
		}
		body := strings.TrimSuffix(l, "\n")
		switch {
		case strings.HasPrefix(l, "+++ ") || strings.HasPrefix(l, "--- "):
			body = t.paint(ansiBold, body)
		case strings.HasPrefix(l, "@@"):
			body = t.paint(ansiCyan, body)
		case strings.HasPrefix(l, "+"):
			body = t.paint(ansiGreen, body)
		case strings.HasPrefix(l, "-"):
			body = t.paint(ansiRed, body)
		}
		t.w.WriteString(body)
		t.w.WriteByte('\n')
	}
}

// sideString is "origin/main (1a2b3c4)" or "working tree".
func sideString(s Side) string {
	if s.Commit == "" {
		return s.Ref
	}
	return s.Ref + " (" + shortHash(s.Commit) + ")"
}

func shortHash(h string) string {
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// envSummary is "+2 -1 flows, +1 -0 ~2 policies" or "no change".
func envSummary(e *EnvReport) string {
	if !e.Changed() {
		return "no change"
	}
	one := ""
	if n, m := len(e.OneSidedAdded), len(e.OneSidedRemoved); n+m > 0 {
		one = fmt.Sprintf(", one-sided +%d -%d", n, m)
	}
	return fmt.Sprintf("flows +%d -%d%s, policies +%d -%d ~%d",
		len(e.FlowsAdded), len(e.FlowsRemoved), one, e.Count(Added), e.Count(Removed), e.Count(Changed))
}

// WriteText writes r for a terminal or a CI log: a summary line per
// environment, then per changed environment its flows, its changed objects
// and their diffs.
func WriteText(w io.Writer, r *Report, o TextOptions) error {
	t := &textWriter{w: bufio.NewWriter(w), color: o.Color}
	t.line("%s", t.paint(ansiBold, "netdep diff "+sideString(r.Base)+" -> "+sideString(r.Head)))
	plain := func(s string) string { return s }
	if c := comparedText(r, sideString, plain); c != "" {
		t.line("compared: %s", c)
	}
	if !r.Changed() {
		if r.Base.Tree != "" || r.Head.Tree != "" {
			t.line("no changes: both enforce the same policies in every environment")
		} else {
			t.line("no changes: both generate the same policies in every environment")
		}
		return t.w.Flush()
	}
	if r.HeadStale() {
		t.line("%s", t.paint(ansiRed, "STALE TREE: "+r.StaleText()))
		verb := map[Action]string{Added: "missing", Removed: "extra", Changed: "changed"}
		for _, f := range r.Stale.Files {
			t.line("  %-7s  %s", verb[f.Action], f.Path)
		}
		t.line("")
	}
	width := 0
	for i := range r.Environments {
		width = max(width, len(EnvDisplay(r.Environments[i].Name)))
	}
	for i := range r.Environments {
		e := &r.Environments[i]
		t.line("  %-*s  %s", width, EnvDisplay(e.Name), envSummary(e))
	}
	// A change to the base shows in every environment: print its diff
	// once.
	seen := map[string]string{}
	for i := range r.Environments {
		e := &r.Environments[i]
		if !e.Changed() {
			continue
		}
		t.line("")
		t.line("%s", t.paint(ansiBold, "=== environment "+EnvDisplay(e.Name)))
		t.flows("flows added", "+", ansiGreen, e.FlowsAdded, e.OneSidedAdded)
		t.flows("flows removed", "-", ansiRed, e.FlowsRemoved, e.OneSidedRemoved)
		if l := oneSidedLegend(e); l != "" {
			t.line("%s", l)
		}
		if len(e.Objects) > 0 {
			t.line("policies:")
			w := 0
			for _, ob := range e.Objects {
				w = max(w, len(ob.ID()))
			}
			for _, ob := range e.Objects {
				t.line("  %-7s  %-*s  (%s)", ob.Action, w, ob.ID(), ob.sourceText())
			}
			for _, ob := range e.Objects {
				t.line("")
				if first, ok := seen[string(ob.Action)+":"+ob.Diff]; ok {
					t.line("%s: same diff as in %s", ob.ID(), EnvDisplay(first))
					continue
				}
				seen[string(ob.Action)+":"+ob.Diff] = e.Name
				t.diff(ob.Diff)
			}
		}
	}
	return t.w.Flush()
}

// oneSidedLegend explains the marks "(ingress only)" and "(egress only)"
// that e's flows carry, "" when none does.
func oneSidedLegend(e *EnvReport) string {
	has := map[Direction]bool{}
	for _, f := range append(slices.Clone(e.OneSidedAdded), e.OneSidedRemoved...) {
		has[f.Direction] = true
	}
	var parts []string
	if has[Ingress] {
		parts = append(parts, "(ingress only): the destination's ingress policies allow it, the source's egress policies do not")
	}
	if has[Egress] {
		parts = append(parts, "(egress only): the source's egress policies allow it, the destination's ingress policies do not")
	}
	return strings.Join(parts, "; ")
}

// merged is a change's connections and one-sided flows in one list, sorted
// by source, then destination.
func merged(conns, oneSided []Flow) []Flow {
	fs := append(slices.Clone(conns), oneSided...)
	slices.SortStableFunc(fs, compareFlows)
	return fs
}

func (t *textWriter) flows(title, sign, code string, conns, oneSided []Flow) {
	fs := merged(conns, oneSided)
	if len(fs) == 0 {
		return
	}
	t.line("%s:", title)
	wf, wt := 0, 0
	for _, f := range fs {
		wf = max(wf, len(f.From.String()))
		wt = max(wt, len(f.To.String()))
	}
	for _, f := range fs {
		t.line("%s", t.paint(code, fmt.Sprintf("  %s %-*s -> %-*s  %s%s", sign, wf, f.From, wt, f.To, PortsString(f.Ports), f.notes())))
	}
}

// WriteTreeText writes the staleness report: one line per differing file,
// then the diff of each changed one.
func WriteTreeText(w io.Writer, r *TreeReport, o TextOptions) error {
	t := &textWriter{w: bufio.NewWriter(w), color: o.Color}
	if !r.Changed() {
		t.line("%s is up to date", r.Dir)
		return t.w.Flush()
	}
	n := map[Action]int{}
	for _, f := range r.Files {
		n[f.Action]++
	}
	t.line("%s is out of date: %d %s to add, %d to delete, %d to change", r.Dir,
		n[Added], plural(n[Added], "file", "files"), n[Removed], n[Changed])
	verb := map[Action]string{Added: "missing", Removed: "extra", Changed: "changed"}
	for _, f := range r.Files {
		t.line("  %-7s  %s", verb[f.Action], f.Path)
	}
	for _, f := range r.Files {
		if f.Diff != "" {
			t.line("")
			t.diff(f.Diff)
		}
	}
	return t.w.Flush()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
