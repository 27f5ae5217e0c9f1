package importer

import (
	"fmt"
	"io"
	"net/netip"
	"sort"
	"strings"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/report"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// DriftReport compares a declared graph with observed traffic in one
// environment.
type DriftReport struct {
	Environment string `json:"environment"`
	// Unused are declared dependencies no observation exercised.
	Unused []Drift `json:"unused"`
	// Undeclared are observed connections the declared graph does not
	// allow: the generated policies would cut them.
	Undeclared []Drift `json:"undeclared"`
}

// Clean reports whether every declaration was used and every observation
// declared.
func (r *DriftReport) Clean() bool { return len(r.Unused) == 0 && len(r.Undeclared) == 0 }

// Drift is one dependency: declared (Where is its position in a dependency
// file) or observed (Where is the first flow, Count how many).
type Drift struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	Ports       string `json:"ports"`
	Where       string `json:"where"`
	Count       int    `json:"count,omitempty"`
	// Dropped: every observation of it was denied where it was seen.
	Dropped bool `json:"dropped,omitempty"`
}

// CompareObserved checks observations against the declared graph of env:
// an observation is declared when the generated policies would allow it
// (egress at its source and ingress at its destination, each either not
// isolated or admitted by a rule); a declared rule is used when some
// observation matches its service, peer and one of its ports.
func CompareObserved(spec *schema.Spec, env string, obs *Observed) (*DriftReport, error) {
	e := spec.Environment(env)
	if e == nil {
		return nil, fmt.Errorf("unknown environment %q", env)
	}
	d := &drift{spec: spec, env: e}
	rep := &DriftReport{Environment: env, Unused: []Drift{}, Undeclared: []Drift{}}
	undeclared := map[string]*Drift{}
	var order []string
	for _, ob := range obs.Observations {
		if d.allowed(ob) {
			continue
		}
		k := endpointName(ob.Src) + "|" + endpointName(ob.Dst) + "|" + obsPorts(ob)
		if u := undeclared[k]; u != nil {
			u.Count += ob.Count
			u.Dropped = u.Dropped && ob.Dropped
			continue
		}
		undeclared[k] = &Drift{Source: endpointName(ob.Src), Destination: endpointName(ob.Dst), Ports: obsPorts(ob), Where: ob.Where, Count: ob.Count, Dropped: ob.Dropped}
		order = append(order, k)
	}
	sort.Strings(order)
	for _, k := range order {
		rep.Undeclared = append(rep.Undeclared, *undeclared[k])
	}
	for _, r := range e.Rules {
		if r.Direction == schema.Ingress && r.Peer.Kind == schema.PeerService {
			continue // the caller's egress rule stands for the edge
		}
		ports := portSetOf(r.Ports, r.AnyPort)
		used := false
		for _, ob := range obs.Observations {
			if ob.Dropped {
				continue // denied traffic does not use a declaration
			}
			self, peer := ob.Src, ob.Dst
			if r.Direction == schema.Ingress {
				self, peer = ob.Dst, ob.Src
			}
			if !d.isService(self, r.Service) || !d.peerMatches(r.Peer, peer) {
				continue
			}
			if ob.Port == 0 || ports.Contains(ob.Protocol, ob.Port) {
				used = true
				break
			}
		}
		if used {
			continue
		}
		src, dst := r.Service.ID(), peerName(r.Peer)
		if r.Direction == schema.Ingress {
			src, dst = dst, src
		}
		rep.Unused = append(rep.Unused, Drift{Source: src, Destination: dst, Ports: ports.String(), Where: r.Source.String()})
	}
	return rep, nil
}

type drift struct {
	spec *schema.Spec
	env  *schema.Environment
}

// service is the declared service an observed pod belongs to.
func (d *drift) service(ep Endpoint) *schema.Service {
	if !ep.isPod() {
		return nil
	}
	for _, s := range d.env.Services {
		if d.isService(ep, s) {
			return s
		}
	}
	return nil
}

// isService: the pod carries the service's selector labels, or (when its
// labels are unknown, as with Otterize) has the service's name.
func (d *drift) isService(ep Endpoint, s *schema.Service) bool {
	if !ep.isPod() || ep.Namespace != s.Namespace {
		return false
	}
	if len(ep.Labels) == 0 {
		return ep.Name == s.Name
	}
	return subset(s.Selector, ep.Labels)
}

func (d *drift) labels(ep Endpoint) map[string]string {
	if len(ep.Labels) > 0 {
		return ep.Labels
	}
	if s := d.service(ep); s != nil {
		return s.Selector
	}
	return map[string]string{"app": ep.Name}
}

func (d *drift) peerMatches(p schema.Peer, ep Endpoint) bool {
	switch p.Kind {
	case schema.PeerService:
		return d.isService(ep, p.Service)
	case schema.PeerSelector:
		return ep.isPod() && ep.Namespace == p.Namespace && subset(p.Selector, d.labels(ep))
	case schema.PeerCIDR:
		if ep.isPod() || !ep.IP.IsValid() {
			return false
		}
		c, err := netip.ParsePrefix(p.CIDR)
		if err != nil || !c.Contains(ep.IP) {
			return false
		}
		for _, x := range p.Except {
			if xp, err := netip.ParsePrefix(x); err == nil && xp.Contains(ep.IP) {
				return false
			}
		}
		return true
	}
	return false
}

func (d *drift) isolated(ep Endpoint, egress bool) bool {
	if !ep.isPod() {
		return false
	}
	ns := d.spec.Namespace(ep.Namespace)
	if ns == nil || !ns.Managed {
		return false
	}
	if egress {
		return ns.IsolateEgress
	}
	return ns.IsolateIngress
}

// allowed: the declared graph lets ob through at both ends.
func (d *drift) allowed(ob Observation) bool {
	return d.side(ob.Src, ob.Dst, ob, true) && d.side(ob.Dst, ob.Src, ob, false)
}

func (d *drift) side(self, peer Endpoint, ob Observation, egress bool) bool {
	if !d.isolated(self, egress) {
		return true
	}
	s := d.service(self)
	if s == nil {
		return false
	}
	dir := schema.Ingress
	if egress {
		dir = schema.Egress
	}
	for _, r := range d.env.Rules {
		if r.Service != s || r.Direction != dir || !d.peerMatches(r.Peer, peer) {
			continue
		}
		if ob.Port == 0 || portSetOf(r.Ports, r.AnyPort).Contains(ob.Protocol, ob.Port) {
			return true
		}
	}
	return false
}

func portSetOf(ports []schema.Port, any bool) eval.PortSet {
	if any {
		return eval.AllPorts()
	}
	var rs []eval.PortRange
	for _, p := range ports {
		end := p.EndPort
		if end == 0 {
			end = p.Port
		}
		rs = append(rs, eval.PortRange{Protocol: p.Protocol, From: p.Port, To: end})
	}
	return eval.NewPortSet(rs...)
}

func obsPorts(ob Observation) string {
	if ob.Port == 0 {
		return "(port not observed)"
	}
	return fmt.Sprintf("%d/%s", ob.Port, ob.Protocol)
}

func endpointName(ep Endpoint) string {
	if ep.isPod() {
		return ep.Namespace + "/" + ep.Name
	}
	return ep.IP.String()
}

func peerName(p schema.Peer) string {
	switch p.Kind {
	case schema.PeerService:
		return p.Service.ID()
	case schema.PeerCIDR:
		s := p.CIDR
		if len(p.Except) > 0 {
			s += " except " + strings.Join(p.Except, ",")
		}
		return s
	default:
		if p.Selector == nil {
			return p.Namespace + "/(every pod)"
		}
		return p.Namespace + "/" + world.PeerPodName(p.Selector)
	}
}

// Text writes the report for people.
func (r *DriftReport) Text() string {
	var b strings.Builder
	env := r.Environment
	if env == "" {
		env = "(single environment)"
	}
	if r.Clean() {
		fmt.Fprintf(&b, "%s: every declared dependency was observed, every observed connection is declared\n", env)
		return b.String()
	}
	fmt.Fprintf(&b, "%s: %d declared but not observed, %d observed but not declared\n", env, len(r.Unused), len(r.Undeclared))
	for _, u := range r.Unused {
		fmt.Fprintf(&b, "  unused      %s -> %s %s\n              declared at %s\n", u.Source, u.Destination, u.Ports, u.Where)
	}
	for _, u := range r.Undeclared {
		seen := "seen"
		if u.Count > 0 {
			seen = fmt.Sprintf("%d %s", u.Count, plural(u.Count, "flow", "flows"))
		}
		if u.Dropped {
			seen += " dropped"
		}
		seen += ", first"
		fmt.Fprintf(&b, "  undeclared  %s -> %s %s\n              %s at %s\n", u.Source, u.Destination, u.Ports, seen, u.Where)
	}
	return b.String()
}

// DriftReports are import drift's result over several environments, as a
// report.Report: text or JSON.
type DriftReports []*DriftReport

// Formats are text and json.
func (rs DriftReports) Formats() []string { return []string{report.Text, report.JSON} }

// Write writes rs in format.
func (rs DriftReports) Write(w io.Writer, format string) error {
	switch format {
	case report.Text:
		for _, r := range rs {
			if _, err := io.WriteString(w, r.Text()); err != nil {
				return err
			}
		}
		return nil
	case report.JSON:
		return report.WriteJSON(w, []*DriftReport(rs))
	}
	return report.UnknownFormat(format, rs)
}

// Clean reports whether every environment agrees.
func (rs DriftReports) Clean() bool {
	for _, r := range rs {
		if !r.Clean() {
			return false
		}
	}
	return true
}
