package diff

import (
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// MarkdownLimit is the size a markdown report stays under: GitHub refuses a
// pull-request comment longer than 65,536 characters. Bytes are counted, which
// is never fewer than characters.
const MarkdownLimit = 65000

// MarkdownOptions control the markdown format.
type MarkdownOptions struct {
	// Limit is the maximum size in bytes; 0 means MarkdownLimit.
	Limit int
}

// maxStaleShown is how many files of a stale tree the comment names.
const maxStaleShown = 10

// footerReserve is kept free for the note saying what was left out.
const footerReserve = 1200

// WriteMarkdown writes r as a pull-request comment: a summary table with a
// row per environment, the flows added and removed, then every added,
// removed or changed policy as a collapsible diff. When everything does not
// fit under the limit, flows and diffs are left out from the end, each
// environment says how many of its flows are not shown, and a closing note
// counts what was left out and how to see all of it.
func WriteMarkdown(w io.Writer, r *Report, o MarkdownOptions) error {
	limit := o.Limit
	if limit <= 0 {
		limit = MarkdownLimit
	}
	var b strings.Builder
	fmt.Fprintf(&b, "### netdep diff\n\n%s → %s\n\n", mdSide(r.Base), mdSide(r.Head))
	code := func(s string) string { return "`" + s + "`" }
	if c := comparedText(r, mdSide, code); c != "" {
		fmt.Fprintf(&b, "Compared: %s.\n\n", c)
	}
	if !r.Changed() {
		if r.Base.Tree != "" || r.Head.Tree != "" {
			b.WriteString("No changes: both enforce the same policies in every environment.\n")
		} else {
			b.WriteString("No changes: both generate the same policies in every environment.\n")
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	if r.HeadStale() {
		fmt.Fprintf(&b, "> [!WARNING]\n> **Stale tree.** %s. Regenerate it with `netdep generate` and commit the result.\n", r.staleText(mdSide, code))
		var names []string
		for i, f := range r.Stale.Files {
			if i == maxStaleShown {
				names = append(names, fmt.Sprintf("and %d more", len(r.Stale.Files)-i))
				break
			}
			names = append(names, fmt.Sprintf("%s `%s`", map[Action]string{Added: "missing", Removed: "extra", Changed: "changed"}[f.Action], f.Path))
		}
		fmt.Fprintf(&b, ">\n> %s\n\n", strings.Join(names, ", "))
	}
	groups := r.groups()
	b.WriteString("| environments | flows added | flows removed | flows changed | policies added | policies removed | policies changed |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for _, g := range groups {
		e := g.Env
		changed, added, removed := flowLines(e)
		fmt.Fprintf(&b, "| %s | %s | %s | %d | %d | %d | %d |\n", g.title(mdEnv),
			mdCount(len(added)-len(e.OneSidedAdded), len(e.OneSidedAdded)), mdCount(len(removed)-len(e.OneSidedRemoved), len(e.OneSidedRemoved)),
			len(changed), e.Count(Added), e.Count(Removed), e.Count(Changed))
	}
	if risk := r.riskSummary(); risk == "none" {
		b.WriteString("\nRisk: none.\n")
	} else {
		fmt.Fprintf(&b, "\n> [!CAUTION]\n> **Risk:** %s.\n", risk)
	}
	for _, w := range r.Warnings {
		fmt.Fprintf(&b, "\n> [!WARNING]\n> %s\n", mdText(w))
	}

	// Diffs get up to half of what is left when flows need the rest.
	var blocks [][]string
	diffSize := 0
	// A change to the base shows in environments that differ in their
	// overlays: its diff is shown once, later groups point back to it.
	seen := map[string]string{}
	for _, g := range groups {
		var bs []string
		for _, ob := range g.Env.Objects {
			key := string(ob.Action) + ":" + ob.Diff
			s := ""
			if first, ok := seen[key]; ok {
				s = fmt.Sprintf("- %s <code>%s</code>: the same diff as in %s\n", ob.Action, html.EscapeString(ob.ID()), first)
			} else {
				seen[key] = g.title(mdEnv)
				s = mdObject(ob)
			}
			bs = append(bs, s)
			diffSize += len(s)
		}
		blocks = append(blocks, bs)
	}
	room := limit - footerReserve - b.Len()
	flowLimit := b.Len() + room - min(diffSize, room/2)

	var totalFlows, shownFlows int
	for _, g := range groups {
		e := g.Env
		changed, added, removed := flowLines(e)
		lines := slices.Concat(changed, added, removed)
		n := len(lines)
		if n == 0 {
			continue
		}
		totalFlows += n
		head := fmt.Sprintf("\n#### Flows in %s\n\n| | from | to | ports | from line | risk |\n| --- | --- | --- | --- | --- | --- |\n", g.title(mdEnv))
		if b.Len()+len(head) > flowLimit {
			continue
		}
		b.WriteString(head)
		shown := 0
		for _, l := range lines {
			row := fmt.Sprintf("| %s | `%s` | `%s` | %s | %s | %s |\n", l.Sign, l.From, l.To, l.portsText("→"), mdSource(l), l.risksText())
			if b.Len()+len(row) > flowLimit {
				break
			}
			b.WriteString(row)
			shown++
		}
		if shown < n {
			fmt.Fprintf(&b, "\n_%d more %s in %s not shown._\n", n-shown, plural(n-shown, "flow", "flows"), g.title(mdEnv))
		} else {
			if l := oneSidedLegend(e); l != "" {
				b.WriteString("\n_" + l + "._\n")
			}
			if pic := picture(e); pic != nil {
				block := "\n```mermaid\n" + string(pic) + "```\n"
				if b.Len()+len(block) <= flowLimit {
					b.WriteString(block)
				}
			}
		}
		shownFlows += shown
	}

	var totalObjects, shownObjects int
	for i, g := range groups {
		e := g.Env
		if len(e.Objects) == 0 {
			continue
		}
		totalObjects += len(e.Objects)
		head := fmt.Sprintf("\n#### Policies in %s\n\n", g.title(mdEnv))
		if b.Len()+len(head) > limit-footerReserve {
			continue
		}
		b.WriteString(head)
		var left []string
		for j, s := range blocks[i] {
			if b.Len()+len(s) > limit-footerReserve-100 {
				left = append(left, "`"+e.Objects[j].ID()+"`")
				continue
			}
			b.WriteString(s)
			shownObjects++
		}
		if len(left) > 0 {
			note := fmt.Sprintf("_Diff not shown for %s._\n", strings.Join(left, ", "))
			if b.Len()+len(note) > limit-footerReserve {
				note = fmt.Sprintf("_Diff not shown for %d %s._\n", len(left), plural(len(left), "policy", "policies"))
			}
			b.WriteString(note)
		}
	}

	// Counted once per group of environments with identical changes.
	var left []string
	if shownFlows < totalFlows {
		left = append(left, fmt.Sprintf("%d of %d flows", totalFlows-shownFlows, totalFlows))
	}
	if shownObjects < totalObjects {
		left = append(left, fmt.Sprintf("%d of %d policy diffs", totalObjects-shownObjects, totalObjects))
	}
	if len(left) > 0 {
		fmt.Fprintf(&b, "\n> **Not shown**, to keep this comment under GitHub's size limit: %s. "+
			"Run `netdep diff --base %s` for the full report, or `-o json` for a machine-readable one.\n",
			strings.Join(left, " and "), r.Base.Ref)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// mdObject is one policy's diff as a collapsible block.
func mdObject(o ObjectChange) string {
	fence := "```"
	for strings.Contains(o.Diff, fence) {
		fence += "`"
	}
	return fmt.Sprintf("<details><summary>%s <code>%s</code> (%s)</summary>\n\n%sdiff\n%s%s\n\n</details>\n\n",
		o.Action, html.EscapeString(o.ID()), html.EscapeString(o.sourceText()), fence, o.Diff, fence)
}

// mdCount is a summary cell: "2", or "0 + 1 one-sided".
func mdCount(conns, oneSided int) string {
	if oneSided == 0 {
		return fmt.Sprint(conns)
	}
	return fmt.Sprintf("%d + %d one-sided", conns, oneSided)
}

func mdSide(s Side) string {
	if s.Commit == "" {
		return s.Ref
	}
	return "`" + s.Ref + "` (" + shortHash(s.Commit) + ")"
}

func mdEnv(name string) string {
	if name == "" {
		return EnvDisplay(name)
	}
	return "`" + name + "`"
}

func flowsKey(e *EnvReport) string {
	var b strings.Builder
	for _, part := range [][]Flow{e.FlowsAdded, e.FlowsRemoved, e.OneSidedAdded, e.OneSidedRemoved} {
		for _, f := range part {
			fmt.Fprintf(&b, "%s>%s:%s%s %s>%s %v %s %v\n", f.From, f.To, PortsString(f.Ports), f.notes(),
				PortsString(f.Before), PortsString(f.After), f.Sources, f.Origin, f.Risks)
		}
		b.WriteString("--\n")
	}
	return b.String()
}

func objectsKey(e *EnvReport) string {
	var b strings.Builder
	for _, o := range e.Objects {
		fmt.Fprintf(&b, "%s %s\n%s\x00", o.Action, o.ID(), o.Diff)
	}
	return b.String()
}

// mdSource is a flow's source cell: the dependency-file lines as code.
func mdSource(l flowLine) string {
	if len(l.Sources) == 0 || l.Origin == OriginTree {
		return "_" + l.sourceText() + "_"
	}
	pos := make([]string, len(l.Sources))
	for i, p := range l.Sources {
		pos[i] = "`" + p.String() + "`"
	}
	s := strings.Join(pos, ", ")
	if l.Was {
		s = "was " + s
	}
	switch l.Origin {
	case OriginDNS:
		s += " (cluster DNS)"
	case OriginIsolation:
		s += " (namespace isolation changed)"
	}
	return s
}

// mdText escapes what markdown would read as markup in a sentence that
// quotes code with backticks.
func mdText(s string) string {
	return strings.NewReplacer("<", "&lt;", ">", "&gt;", "|", "\\|").Replace(s)
}
