package schema

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// parsePortValue reads "8080", "53/UDP", "9000-9100" or "9000-9100/TCP".
// The protocol defaults to TCP, as in Kubernetes; lower case is accepted.
func parsePortValue(s string) (Port, error) {
	num, proto, hasProto := strings.Cut(s, "/")
	p := Port{Protocol: corev1.ProtocolTCP}
	if hasProto {
		pr, err := parseProtocol(proto)
		if err != nil {
			return Port{}, err
		}
		p.Protocol = pr
	}
	lo, hi, isRange := strings.Cut(num, "-")
	if isRange && (lo == "" || hi == "") {
		// "-80", "-0" (YAML's negative numbers) and "80-": not a range,
		// and the empty side is not what the user wrote.
		return Port{}, fmt.Errorf("invalid port %q: expected a number from 1 to 65535 or a range like 9000-9100", s)
	}
	first, err := parsePortNumber(lo)
	if err != nil {
		return Port{}, err
	}
	p.Port = first
	if isRange {
		last, err := parsePortNumber(hi)
		if err != nil {
			return Port{}, err
		}
		if last < first {
			return Port{}, fmt.Errorf("invalid port range %q: expected the first port lower than the last (did you mean \"%d-%d\"?)", s, last, first)
		}
		if last == first {
			return Port{}, fmt.Errorf("invalid port range %q: expected the first port lower than the last (write %d for one port)", s, first)
		}
		p.EndPort = last
	}
	return p, nil
}

func parseProtocol(s string) (corev1.Protocol, error) {
	switch strings.ToUpper(s) {
	case "TCP":
		return corev1.ProtocolTCP, nil
	case "UDP":
		return corev1.ProtocolUDP, nil
	case "SCTP":
		return corev1.ProtocolSCTP, nil
	}
	return "", fmt.Errorf("unknown protocol %q: expected TCP, UDP or SCTP", s)
}

func parsePortNumber(s string) (int32, error) {
	n, err := strconv.Atoi(s)
	if err != nil || s == "" || s[0] == '+' {
		return 0, fmt.Errorf("invalid port %q: expected a number from 1 to 65535", s)
	}
	if len(s) > 1 && s[0] == '0' {
		// YAML 1.1 readers (kubectl among them) read 0120 as octal 80;
		// netdep's YAML 1.2 reader would read 120. Neither guess is safe.
		hint := fmt.Sprintf("write %d", n)
		if o, err := strconv.ParseInt(s, 8, 32); err == nil {
			hint = fmt.Sprintf("write %d, or %d if the octal value was meant", n, o)
		}
		return 0, fmt.Errorf("invalid port %q: a leading zero reads as octal in YAML 1.1 (kubectl) and as decimal here; %s", s, hint)
	}
	if n < 1 || n > 65535 {
		return 0, fmt.Errorf("port %d out of range: expected 1 to 65535", n)
	}
	return int32(n), nil
}

// isPortValue tells a port value (starts with a digit) from a port name.
func isPortValue(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

// sortPorts orders ports by (protocol, port, endPort, name) as Spec promises.
func sortPorts(ps []Port) {
	sort.Slice(ps, func(i, j int) bool { return portLess(ps[i], ps[j]) })
}

func portLess(a, b Port) bool {
	if a.Protocol != b.Protocol {
		return a.Protocol < b.Protocol
	}
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	if a.EndPort != b.EndPort {
		return a.EndPort < b.EndPort
	}
	return a.Name < b.Name
}

// samePort compares what reaches the wire: names are only labels.
func samePort(a, b Port) bool {
	return a.Protocol == b.Protocol && a.Port == b.Port && a.EndPort == b.EndPort
}

// dedupPorts sorts and drops ports that are the same on the wire.
func dedupPorts(ps []Port) []Port {
	sortPorts(ps)
	var out []Port
	for _, p := range ps {
		if len(out) > 0 && samePort(out[len(out)-1], p) {
			continue
		}
		out = append(out, p)
	}
	return out
}

func (p Port) String() string {
	s := strconv.Itoa(int(p.Port))
	if p.EndPort != 0 {
		s += "-" + strconv.Itoa(int(p.EndPort))
	}
	return s + "/" + string(p.Protocol)
}

// parseCIDR reads a literal prefix and insists on its canonical form: a
// prefix with host bits set (10.0.0.1/8) almost always hides a typo, and
// Kubernetes would silently mask it.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		if a, aerr := netip.ParseAddr(s); aerr == nil {
			return netip.Prefix{}, fmt.Errorf("expected a cidr, found the address %q (did you mean %q?)", s, netip.PrefixFrom(a, a.BitLen()).String())
		}
		return netip.Prefix{}, fmt.Errorf("invalid cidr %q: expected an address and a prefix length like 10.0.0.0/8", s)
	}
	if p.Addr().Zone() != "" {
		return netip.Prefix{}, fmt.Errorf("invalid cidr %q: zones are not allowed", s)
	}
	if p.Addr().Is4In6() {
		// The API server refuses these in an ipBlock; name the IPv4 form.
		hint := ""
		if p.Bits() >= 96 {
			hint = fmt.Sprintf(" (write %q)", netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96).Masked().String())
		}
		return netip.Prefix{}, fmt.Errorf("invalid cidr %q: IPv4-mapped IPv6 prefixes are not allowed by the Kubernetes API%s", s, hint)
	}
	if m := p.Masked(); m != p {
		return netip.Prefix{}, fmt.Errorf("cidr %q has host bits set (did you mean %q?)", s, m.String())
	}
	return p, nil
}

// looksLikeCIDR tells a literal (contains '.', ':' or '/') from a set name.
func looksLikeCIDR(s string) bool {
	return strings.ContainsAny(s, ".:/")
}

// prefixInside reports whether inner lies within outer and is smaller: an
// except equal to its cidr would allow nothing at all.
func prefixInside(inner, outer netip.Prefix) bool {
	return inner.Addr().Is4() == outer.Addr().Is4() && inner.Bits() > outer.Bits() && outer.Contains(inner.Addr())
}

func prefixLess(a, b netip.Prefix) bool {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c < 0
	}
	return a.Bits() < b.Bits()
}

var regexHint = regexp.MustCompile(`, regex used for validation is '[^']*'`)

// k8sMessage shortens apimachinery's validation messages: the regex they
// quote helps nobody writing YAML.
func k8sMessage(msgs []string) string {
	s := strings.Join(msgs, "; ")
	s = regexHint.ReplaceAllString(s, "")
	return strings.ReplaceAll(s, ",  or", ", or")
}

// checkLabel validates a DNS-1123 label (namespace, service, environment and
// set names), returning "" when it is valid.
func checkLabel(what, s string) string {
	if msgs := validation.IsDNS1123Label(s); len(msgs) > 0 {
		return fmt.Sprintf("invalid %s %q: %s%s", what, s, k8sMessage(msgs), labelHint(s))
	}
	return ""
}

// labelHint suggests the DNS-1123 label a name was probably meant to be:
// lower case, '-' for '_', '.' and spaces, at most 63 characters.
func labelHint(s string) string {
	l := labelFix(s)
	if l == s || len(validation.IsDNS1123Label(l)) > 0 {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", l)
}

// labelFix is the DNS-1123 label s was probably meant to be.
func labelFix(s string) string {
	l := strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		case r == '_' || r == '.' || r == ' ':
			return '-'
		}
		return r
	}, s)
	if len(l) > validation.DNS1123LabelMaxLength {
		l = l[:validation.DNS1123LabelMaxLength]
	}
	return strings.Trim(l, "-")
}

func family(p netip.Prefix) string {
	if p.Addr().Is4() {
		return "IPv4"
	}
	return "IPv6"
}

// checkSelector validates label keys and values as the API server would.
func checkSelector(sel map[string]string) []string {
	var out []string
	for _, k := range sortedKeys(sel) {
		if msgs := validation.IsQualifiedName(k); len(msgs) > 0 {
			out = append(out, fmt.Sprintf("invalid label key %q: %s", k, k8sMessage(msgs)))
		}
		if msgs := validation.IsValidLabelValue(sel[k]); len(msgs) > 0 {
			out = append(out, fmt.Sprintf("invalid value %q for label %q: %s", sel[k], k, k8sMessage(msgs)))
		}
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// selectorString renders {a: b, c: d} in key order for messages and sorting.
func selectorString(sel map[string]string) string {
	if sel == nil {
		return "(all pods)"
	}
	parts := make([]string, 0, len(sel))
	for _, k := range sortedKeys(sel) {
		parts = append(parts, k+": "+sel[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// subsetOf reports whether every label of a is also in b with the same value:
// then a pod carrying b's labels is selected by a.
func subsetOf(a, b map[string]string) bool {
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}
