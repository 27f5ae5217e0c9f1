package importer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/schema"
)

// File is one dependency file to write: its path relative to the output
// directory and its bytes.
type File struct {
	Name string
	Data []byte
}

// nsDoc is one namespace's dependency document before rendering.
type nsDoc struct {
	name    string
	managed bool
	// isolate is nil for the default (both directions).
	isolate []string
	// header lines are written as comments at the top of the file.
	header   []string
	services map[string]*svcDoc
}

type svcDoc struct {
	name     string
	selector map[string]string
	// comment is written above the service's key.
	comment string
	// edge marks a service the inputs open to the internet (or nearly).
	edge  bool
	ports []portDecl
	calls map[string]*entry
	from  map[string]*entry
}

type portDecl struct {
	name     string
	protocol corev1.Protocol
	port     int32
	end      int32 // 0 for a single port
}

func (p portDecl) value() string {
	v := strconv.Itoa(int(p.port))
	if p.end != 0 {
		v += "-" + strconv.Itoa(int(p.end))
	}
	if p.protocol != corev1.ProtocolTCP {
		v += "/" + string(p.protocol)
	}
	return v
}

func (p portDecl) portRange() eval.PortRange {
	end := p.end
	if end == 0 {
		end = p.port
	}
	return eval.PortRange{Protocol: p.protocol, From: p.port, To: end}
}

// entry is one calls or from entry: its text in YAML flow form and the
// origins that explain it, joined into a trailing comment.
type entry struct {
	text    string
	origins map[string]bool
}

func newDoc(name string) *nsDoc {
	return &nsDoc{name: name, managed: true, services: map[string]*svcDoc{}}
}

func (d *nsDoc) service(name string) *svcDoc {
	s := d.services[name]
	if s == nil {
		s = &svcDoc{name: name, calls: map[string]*entry{}, from: map[string]*entry{}}
		d.services[name] = s
	}
	return s
}

func addEntry(m map[string]*entry, text string, origins ...string) {
	e := m[text]
	if e == nil {
		e = &entry{text: text, origins: map[string]bool{}}
		m[text] = e
	}
	for _, o := range origins {
		if o != "" {
			e.origins[o] = true
		}
	}
}

// portByRange returns the declared port covering exactly r.
func (s *svcDoc) portByRange(r eval.PortRange) (portDecl, bool) {
	for _, p := range s.ports {
		if p.portRange() == r {
			return p, true
		}
	}
	return portDecl{}, false
}

func (s *svcDoc) portSet() eval.PortSet {
	rs := make([]eval.PortRange, len(s.ports))
	for i, p := range s.ports {
		rs[i] = p.portRange()
	}
	return eval.NewPortSet(rs...)
}

// render writes the document in the compact schema.
func (d *nsDoc) render() []byte {
	var b strings.Builder
	b.WriteString(schema.Modeline + "\n") // completion and checks in editors
	for _, h := range d.header {
		if h == "" {
			b.WriteString("#\n")
			continue
		}
		b.WriteString("# " + h + "\n")
	}
	b.WriteString("netdep: v1\n")
	b.WriteString("namespace: " + quote(d.name) + "\n")
	if !d.managed {
		b.WriteString("managed: false\n")
	}
	if d.isolate != nil {
		b.WriteString("isolate: [" + strings.Join(d.isolate, ", ") + "]\n")
	}
	if len(d.services) == 0 {
		b.WriteString("services: {}\n")
		return []byte(b.String())
	}
	b.WriteString("services:\n")
	for _, name := range sortedKeys(d.services) {
		s := d.services[name]
		if s.comment != "" {
			for _, l := range strings.Split(s.comment, "\n") {
				b.WriteString("  # " + l + "\n")
			}
		}
		if isDefaultSelector(name, s.selector) && !s.edge && len(s.ports) == 0 && len(s.calls) == 0 && len(s.from) == 0 {
			b.WriteString("  " + quote(name) + ": {}\n")
			continue
		}
		b.WriteString("  " + quote(name) + ":\n")
		if !isDefaultSelector(name, s.selector) {
			b.WriteString("    selector: " + flowMap(s.selector) + "\n")
		}
		if s.edge {
			b.WriteString("    edge: true  # the inputs admit (nearly) every address\n")
		}
		if len(s.ports) > 0 {
			b.WriteString("    ports:\n")
			ports := append([]portDecl(nil), s.ports...)
			sort.Slice(ports, func(i, j int) bool { return ports[i].name < ports[j].name })
			for _, p := range ports {
				b.WriteString("      " + p.name + ": " + quotePort(p.value()) + "\n")
			}
		}
		for _, list := range []struct {
			key string
			m   map[string]*entry
		}{{"calls", s.calls}, {"from", s.from}} {
			if len(list.m) == 0 {
				continue
			}
			b.WriteString("    " + list.key + ":\n")
			for _, text := range sortedKeys(list.m) {
				line := "      - " + text
				if o := sortedKeys(list.m[text].origins); len(o) > 0 {
					line += "  # " + strings.Join(o, "; ")
				}
				b.WriteString(line + "\n")
			}
		}
	}
	return []byte(b.String())
}

func isDefaultSelector(name string, sel map[string]string) bool {
	return len(sel) == 1 && sel["app"] == name
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// quote returns s as a YAML scalar, bare when it is plainly a string in
// block and flow context alike (names, labels, CIDRs), double-quoted
// otherwise, so "8080" stays a string and "on" is not read as a boolean by
// YAML 1.1 tools.
func quote(s string) string {
	plain := s != "" && !looksNumeric(s) && !isYAML11Bool(s) && !strings.HasPrefix(s, "-")
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._/-", r)) {
			plain = false
		}
	}
	if plain {
		return s
	}
	return strconv.Quote(s)
}

// quoteRef writes a service reference (ns/svc:port): a colon inside a
// plain scalar is fine in block context, where calls and from entries are.
func quoteRef(s string) string {
	if q := quote(strings.ReplaceAll(s, ":", "/")); !strings.HasPrefix(q, "\"") && !strings.HasPrefix(s, ":") {
		return s
	}
	return quote(s)
}

func looksNumeric(s string) bool {
	_, err := strconv.ParseFloat(s, 64)
	return err == nil
}

func isYAML11Bool(s string) bool {
	switch strings.ToLower(s) {
	case "y", "yes", "n", "no", "on", "off", "true", "false", "null", "~":
		return true
	}
	return false
}

// quotePort writes a port value: numbers bare, anything else as YAML needs.
func quotePort(v string) string {
	if _, err := strconv.Atoi(v); err == nil {
		return v
	}
	return quote(v)
}

func flowMap(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range sortedKeys(m) {
		parts = append(parts, quote(k)+": "+quote(m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// portValues formats a port set as the values of a `ports:` list of a cidr
// or raw-peer call: numbers, ranges and protocols.
func portValues(ps eval.PortSet) string {
	if ps.IsAll() {
		return "any"
	}
	var vals []string
	for _, r := range ps.Ranges() {
		v := strconv.Itoa(int(r.From))
		if r.To != r.From {
			v += "-" + strconv.Itoa(int(r.To))
		}
		if r.Protocol != corev1.ProtocolTCP {
			v += "/" + string(r.Protocol)
		}
		vals = append(vals, quotePort(v))
	}
	return "[" + strings.Join(vals, ", ") + "]"
}

// portName is the name netdep gives a port that has none: the protocol and
// the number, within the 15 characters of an IANA service name.
func portName(r eval.PortRange) string {
	proto := strings.ToLower(string(r.Protocol))
	if r.From == r.To {
		return fmt.Sprintf("%s-%d", proto, r.From)
	}
	n := fmt.Sprintf("%s-%d-%d", proto, r.From, r.To)
	if len(n) > 15 {
		n = fmt.Sprintf("%s%d-%d", proto, r.From, r.To)
	}
	return n
}
