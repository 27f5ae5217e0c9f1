package posture

import (
	"bufio"
	"fmt"
	"html/template"
	"io"
	"strings"
	"sync"

	"github.com/netdep/netdep/templates"
)

// HTMLRows is the most rows a table of the html page shows; json has every
// row.
const HTMLRows = 200

var (
	pageOnce sync.Once
	page     *template.Template
	pageErr  error
)

func pageTemplate() (*template.Template, error) {
	pageOnce.Do(func() {
		page, pageErr = template.New("report.html.tmpl").Funcs(template.FuncMap{
			"add":      func(a, b int) int { return a + b },
			"join":     func(s []string) string { return strings.Join(s, ", ") },
			"nodeName": func(n GraphNode) string { return n.Name },
			"edgeClass": func(g *Graph, e GraphEdge) string {
				a, b := g.Nodes[e.From], g.Nodes[e.To]
				switch {
				case a.Outside || b.Outside:
					return " out"
				case a.NS != b.NS:
					return " cross"
				}
				return ""
			},
		}).ParseFS(templates.FS, "report.html.tmpl")
	})
	return page, pageErr
}

type htmlPage struct {
	Intro string
	Envs  []htmlEnv
}

type htmlFigure struct {
	Name, Head, Base, Change, Dir string
}

type htmlRow struct {
	Service, From, Ports string
	Outside              bool
}

type htmlIsolation struct {
	Namespace, Managed, Ingress, Egress, NewPods string
	Services                                     int
	None                                         bool
}

type htmlEnv struct {
	Anchor, Title, GraphNote                                                     string
	Sensitive                                                                    []string
	Audit                                                                        string
	Figures                                                                      []htmlFigure
	Change                                                                       *Change
	Graph                                                                        *Graph
	Isolation                                                                    []htmlIsolation
	Exposure, Egress                                                             []htmlRow
	Blast                                                                        []Blast
	Cross                                                                        []NamespaceFlows
	SensitiveFlows                                                               []Connection
	IsolationMore, ExposureMore, EgressMore, BlastMore, CrossMore, SensitiveMore int
}

func cut[T any](xs []T) ([]T, int) {
	if len(xs) > HTMLRows {
		return xs[:HTMLRows], len(xs) - HTMLRows
	}
	return xs, 0
}

func (r *Report) writeHTML(w io.Writer) error {
	t, err := pageTemplate()
	if err != nil {
		return err
	}
	p := htmlPage{Intro: r.intro()}
	for i, e := range r.Environments {
		title := envTitle(e.Name)
		he := htmlEnv{Anchor: fmt.Sprintf("env-%d", i), Title: strings.ToUpper(title[:1]) + title[1:], Change: e.Change, Graph: e.graph, Sensitive: e.Sensitive, Audit: e.Audit}
		if he.Graph == nil {
			he.Graph = &Graph{Level: "service"}
		}
		for _, f := range figures(e) {
			hf := htmlFigure{Name: f.name, Head: f.head, Base: f.base, Change: f.change}
			switch {
			case strings.HasPrefix(f.change, "+"):
				hf.Dir = "up"
			case strings.HasPrefix(f.change, "-"):
				hf.Dir = "down"
			}
			he.Figures = append(he.Figures, hf)
		}
		if he.Graph.Level == "service" {
			he.GraphNote = fmt.Sprintf("%d services, one node each; an arrow is an allowed connection (blue: across namespaces, dashed: to or from outside the cluster). A red ring marks a service reachable from outside the cluster.", he.Graph.Services)
		} else {
			he.GraphNote = fmt.Sprintf("%d services are too many to draw one by one (the limit is %d): each node is a namespace, with its number of services, and an arrow stands for every allowed connection between two namespaces. The tables below list the services.", he.Graph.Services, DefaultGraphLimit)
			if he.Graph.Omitted > 0 {
				he.GraphNote += fmt.Sprintf(" Only the %d namespace pairs with the most connections are drawn; %d more are in the json format.", MaxGraphEdges, he.Graph.Omitted)
			}
		}
		var iso []htmlIsolation
		for _, n := range e.Isolation {
			iso = append(iso, htmlIsolation{Namespace: n.Namespace, Managed: yesNo(n.Managed), Services: n.Services,
				Ingress: isolatedPct(n.IngressIsolated, n.IngressByCluster, n.Services), Egress: isolatedPct(n.EgressIsolated, n.EgressByCluster, n.Services), NewPods: newPods(n),
				None: n.IngressIsolated == 0 && n.EgressIsolated == 0 && !n.NewPodIngress && !n.NewPodEgress})
		}
		he.Isolation, he.IsolationMore = cut(iso)
		var exp, egr []htmlRow
		for _, x := range e.Exposure {
			for _, f := range x.From {
				exp = append(exp, htmlRow{Service: x.Service, From: fromName(f), Ports: f.Ports, Outside: f.Outside})
			}
		}
		for _, x := range e.EgressOutside {
			for _, f := range x.To {
				egr = append(egr, htmlRow{Service: x.Service, From: f.Name, Ports: f.Ports})
			}
		}
		he.Exposure, he.ExposureMore = cut(exp)
		he.Egress, he.EgressMore = cut(egr)
		he.Blast, he.BlastMore = cut(e.BlastRadius)
		he.Cross, he.CrossMore = cut(e.CrossNamespace)
		he.SensitiveFlows, he.SensitiveMore = cut(e.SensitiveFlows)
		p.Envs = append(p.Envs, he)
	}
	bw := bufio.NewWriter(w)
	if err := t.Execute(bw, p); err != nil {
		return err
	}
	return bw.Flush()
}
