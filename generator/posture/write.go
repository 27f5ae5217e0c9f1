package posture

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/netdep/netdep/generator/report"
)

// The formats a Report is written in, besides report's: Markdown (the
// default), HTML (one self-contained page), JSON (everything), and the
// connectivity list as Text ("src => dst : conns") and CSV.
const (
	HTML = "html"
	CSV  = "csv"
)

// Formats are the formats Write takes, the default first.
func (r *Report) Formats() []string {
	return []string{report.Markdown, HTML, report.JSON, report.Text, CSV}
}

// Write writes r in format.
func (r *Report) Write(w io.Writer, format string) error {
	switch format {
	case report.Markdown:
		return r.writeMarkdown(w)
	case HTML:
		return r.writeHTML(w)
	case report.JSON:
		return report.WriteJSON(w, r)
	case report.Text:
		return r.writeList(w, false)
	case CSV:
		return r.writeList(w, true)
	}
	return report.UnknownFormat(format, r)
}

// MaxRows is the most rows a markdown table shows; json has every row.
const MaxRows = 50

// writeList is the connectivity list, netpol-analyzer's: one line per
// connection, each environment after a "# environment E" line when there
// are several.
func (r *Report) writeList(w io.Writer, asCSV bool) error {
	bw := bufio.NewWriter(w)
	var cw *csv.Writer
	if asCSV {
		cw = csv.NewWriter(bw)
		header := []string{"src", "dst", "conn"}
		if len(r.Environments) > 1 {
			header = append([]string{"environment"}, header...)
		}
		if err := cw.Write(header); err != nil {
			return err
		}
	}
	for i, e := range r.Environments {
		if !asCSV && len(r.Environments) > 1 {
			if i > 0 {
				bw.WriteString("\n")
			}
			fmt.Fprintf(bw, "# environment %s\n", e.Name)
		}
		for _, c := range e.Connections {
			src, dst := c.listNames()
			if asCSV {
				rec := []string{src, dst, c.Conn}
				if len(r.Environments) > 1 {
					rec = append([]string{e.Name}, rec...)
				}
				if err := cw.Write(rec); err != nil {
					return err
				}
				continue
			}
			fmt.Fprintf(bw, "%s => %s : %s\n", src, dst, c.Conn)
		}
	}
	if cw != nil {
		cw.Flush()
		if err := cw.Error(); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// envTitle names an environment in headings.
func envTitle(name string) string {
	if name == "" {
		return "the implicit environment"
	}
	return "environment " + name
}

func pct(n, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d of %d (%d%%)", n, total, (n*100+total/2)/total)
}

func signed(n int) string {
	if n > 0 {
		return fmt.Sprintf("+%d", n)
	}
	return fmt.Sprint(n)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// figure is one line of the summary table.
type figure struct {
	name       string
	head, base string
	change     string
}

// figures are the summary lines of e, with the base's when compared.
func figures(e *Environment) []figure {
	s, b, c := e.Summary, e.Base, e.Change
	f := func(name string, head func(Summary) string, delta func(Change) int) figure {
		out := figure{name: name, head: head(s)}
		if b != nil {
			out.base = head(*b)
			out.change = signed(delta(*c))
		}
		return out
	}
	num := func(get func(Summary) int) func(Summary) string {
		return func(s Summary) string { return fmt.Sprint(get(s)) }
	}
	return []figure{
		f("services", num(func(s Summary) int { return s.Services }), func(c Change) int { return c.Services }),
		f("isolated for ingress", func(s Summary) string { return pct(s.IngressIsolated, s.Services) }, func(c Change) int { return c.IngressIsolated }),
		f("isolated for egress", func(s Summary) string { return pct(s.EgressIsolated, s.Services) }, func(c Change) int { return c.EgressIsolated }),
		f("namespaces with no isolation", func(s Summary) string { return fmt.Sprintf("%d of %d", s.UnisolatedNamespaces, s.Namespaces) }, func(c Change) int { return c.UnisolatedNamespaces }),
		f("exposed (outside or unmanaged namespaces)", num(func(s Summary) int { return s.Exposed }), func(c Change) int { return c.Exposed }),
		f("exposed to outside the cluster", num(func(s Summary) int { return s.ExposedOutside }), func(c Change) int { return c.ExposedOutside }),
		f("may connect outside the cluster", num(func(s Summary) int { return s.EgressOutside }), func(c Change) int { return c.EgressOutside }),
		f("largest blast radius (services)", func(s Summary) string {
			if s.MaxBlastService == "" {
				return "0"
			}
			return fmt.Sprintf("%d (%s)", s.MaxBlastRadius, s.MaxBlastService)
		}, func(c Change) int { return c.MaxBlastRadius }),
		f("connections between services", num(func(s Summary) int { return s.Connections }), func(c Change) int { return c.Connections }),
		f("cross-namespace connections", num(func(s Summary) int { return s.CrossNamespace }), func(c Change) int { return c.CrossNamespace }),
		f("flows into sensitive namespaces", num(func(s Summary) int { return s.SensitiveFlows }), func(c Change) int { return c.SensitiveFlows }),
	}
}

// cellText escapes a markdown table cell.
func cellText(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

type mdWriter struct {
	b *bufio.Writer
}

func (m mdWriter) line(format string, args ...any) { fmt.Fprintf(m.b, format+"\n", args...) }

func (m mdWriter) table(header []string, rows [][]string, total int) {
	if len(rows) == 0 {
		m.line("None.")
		m.line("")
		return
	}
	m.line("| %s |", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---"
	}
	m.line("| %s |", strings.Join(seps, " | "))
	for _, r := range rows {
		cells := make([]string, len(r))
		for i, c := range r {
			cells[i] = cellText(c)
		}
		m.line("| %s |", strings.Join(cells, " | "))
	}
	if total > len(rows) {
		m.line("")
		m.line("... and %d more (the json format lists every row).", total-len(rows))
	}
	m.line("")
}

func limit[T any](xs []T) []T {
	if len(xs) > MaxRows {
		return xs[:MaxRows]
	}
	return xs
}

func (r *Report) writeMarkdown(w io.Writer) error {
	m := mdWriter{bufio.NewWriter(w)}
	m.line("# Security posture report")
	m.line("")
	m.line("%s", r.intro())
	m.line("")
	for _, e := range r.Environments {
		m.line("## %s", strings.ToUpper(envTitle(e.Name)[:1])+envTitle(e.Name)[1:])
		m.line("")
		if e.Audit != "" {
			m.line("%s", e.Audit)
			m.line("")
		}
		if len(e.Sensitive) > 0 {
			m.line("Sensitive namespaces: %s.", strings.Join(e.Sensitive, ", "))
			m.line("")
		}
		header := []string{"figure", "value"}
		if e.Base != nil {
			header = []string{"figure", "base (" + r.Base + ")", "head", "change"}
		}
		var rows [][]string
		for _, f := range figures(e) {
			if e.Base != nil {
				rows = append(rows, []string{f.name, f.base, f.head, f.change})
			} else {
				rows = append(rows, []string{f.name, f.head})
			}
		}
		m.table(header, rows, len(rows))
		if c := e.Change; c != nil {
			m.line("### What the change does")
			m.line("")
			if len(c.NewlyExposed) == 0 && len(c.NoLongerExposed) == 0 && len(c.BlastRadius) == 0 {
				m.line("No service's exposure or blast radius changes.")
				m.line("")
			}
			if len(c.NewlyExposed) > 0 {
				m.line("Newly exposed: %s.", strings.Join(c.NewlyExposed, ", "))
				m.line("")
			}
			if len(c.NoLongerExposed) > 0 {
				m.line("No longer exposed: %s.", strings.Join(c.NoLongerExposed, ", "))
				m.line("")
			}
			if len(c.BlastRadius) > 0 {
				rows = nil
				for _, b := range limit(c.BlastRadius) {
					rows = append(rows, []string{b.Service, fmt.Sprint(b.Base), fmt.Sprint(b.Head), signed(b.Head - b.Base)})
				}
				m.table([]string{"service", "blast radius at base", "at head", "change"}, rows, len(c.BlastRadius))
			}
		}

		m.line("### Isolation coverage")
		m.line("")
		rows = nil
		var none []string
		for _, n := range e.Isolation {
			rows = append(rows, []string{n.Namespace, yesNo(n.Managed), fmt.Sprint(n.Services), isolatedPct(n.IngressIsolated, n.IngressByCluster, n.Services), isolatedPct(n.EgressIsolated, n.EgressByCluster, n.Services), newPods(n)})
			if n.IngressIsolated == 0 && n.EgressIsolated == 0 && !n.NewPodIngress && !n.NewPodEgress {
				none = append(none, n.Namespace)
			}
		}
		m.table([]string{"namespace", "managed", "services", "ingress isolated", "egress isolated", "a new pod is isolated for"}, limit(rows), len(rows))
		if len(none) > 0 {
			m.line("Namespaces with no isolation at all: %s.", strings.Join(limit(none), ", "))
			m.line("")
		}

		m.line("### Exposure")
		m.line("")
		m.line("Services that addresses outside the cluster, or pods of namespaces nobody manages, may connect to.")
		m.line("")
		rows = nil
		n := 0
		for _, x := range e.Exposure {
			for _, p := range x.From {
				n++
				if len(rows) < MaxRows {
					rows = append(rows, []string{x.Service, fromName(p), p.Ports})
				}
			}
		}
		m.table([]string{"service", "from", "ports"}, rows, n)

		m.line("### Egress to the outside")
		m.line("")
		rows = nil
		n = 0
		for _, x := range e.EgressOutside {
			for _, p := range x.To {
				n++
				if len(rows) < MaxRows {
					rows = append(rows, []string{x.Service, p.Name, p.Ports})
				}
			}
		}
		m.table([]string{"service", "to", "ports"}, rows, n)

		m.line("### Blast radius")
		m.line("")
		m.line("What a compromised service reaches: in one hop, and through any chain of allowed connections. Largest first.")
		m.line("")
		rows = nil
		for _, b := range limit(e.BlastRadius) {
			rows = append(rows, []string{b.Service, fmt.Sprint(b.OneHop), fmt.Sprint(b.OneHopNamespaces), fmt.Sprint(b.Transitive), fmt.Sprint(b.TransitiveNamespaces), yesNo(b.Outside)})
		}
		m.table([]string{"service", "one hop: services", "namespaces", "transitive: services", "namespaces", "reaches outside"}, rows, len(e.BlastRadius))

		m.line("### Cross-namespace connections")
		m.line("")
		rows = nil
		for _, f := range limit(e.CrossNamespace) {
			to := f.To
			if f.Sensitive {
				to += " (sensitive)"
			}
			rows = append(rows, []string{f.From, to, fmt.Sprint(f.Flows)})
		}
		m.table([]string{"from", "to", "connections"}, rows, len(e.CrossNamespace))

		if len(e.Sensitive) > 0 {
			m.line("### Flows into sensitive namespaces")
			m.line("")
			rows = nil
			for _, c := range limit(e.SensitiveFlows) {
				rows = append(rows, []string{c.Src, c.Dst, c.Conn})
			}
			m.table([]string{"source", "destination", "connections"}, rows, len(e.SensitiveFlows))
		}
	}
	return m.b.Flush()
}

// intro says what the figures are computed from.
func (r *Report) intro() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Computed from the evaluated policies (%s), not from the dependency files alone.", r.Source)
	if r.Base != "" {
		fmt.Fprintf(&b, " Compared with %s.", r.Base)
	}
	if r.NotEvaluated > 0 {
		fmt.Fprintf(&b, " Partial: %d %s that can change connectivity %s not evaluated; the figures hold for the objects it evaluated only.",
			r.NotEvaluated, plural(r.NotEvaluated, "object", "objects"), plural(r.NotEvaluated, "was", "were"))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// newPods says what a new unlabelled pod of n is isolated for, naming the
// ClusterNetworkPolicy tier that isolates it: "ingress (Baseline) and
// egress".
func newPods(n NamespaceIsolation) string {
	side := func(what, tier string) string {
		if tier != "" {
			return what + " (" + tier + ")"
		}
		return what
	}
	switch {
	case n.NewPodIngress && n.NewPodEgress:
		return side("ingress", n.NewPodIngressTier) + " and " + side("egress", n.NewPodEgressTier)
	case n.NewPodIngress:
		return side("ingress", n.NewPodIngressTier)
	case n.NewPodEgress:
		return side("egress", n.NewPodEgressTier)
	}
	return "nothing"
}

// isolatedPct is pct, saying how many a ClusterNetworkPolicy isolates.
func isolatedPct(n, byCluster, total int) string {
	s := pct(n, total)
	if byCluster > 0 {
		s += fmt.Sprintf(", %d by a ClusterNetworkPolicy", byCluster)
	}
	return s
}

func fromName(p Peer) string {
	if p.Outside {
		return "outside the cluster: " + p.Name
	}
	return p.Name
}
