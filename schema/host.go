package schema

import (
	"fmt"
	"net/netip"
	"strings"
)

// Host names: a calls entry's host: and the keys of a project file's
// hosts:. A host is an RFC 1123 name of at least two labels, written in
// lower case without a trailing dot, or a wildcard "*.<name>" whose "*" is
// the whole leftmost label (Cilium's matchPattern: "*.example.com" matches
// www.example.com, not example.com nor a.b.example.com).

// maxHostLength is the longest DNS name (RFC 1035: 253 characters written
// without the trailing dot).
const maxHostLength = 253

// checkHost says why s is not a host name netdep accepts, "" when it is.
// The message starts with the reason and ends with what to write instead.
func checkHost(s string) string {
	q := s
	switch {
	case s == "":
		return "expected a host name (api.example.com), found an empty string"
	case s == "*":
		return `invalid host "*": a wildcard needs the domain it stands under ("*.example.com"); netdep does not allow egress to every name`
	}
	if _, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		return fmt.Sprintf("invalid host %q: an IP address is not a host name; write {cidr: %s, ports: [...]} instead", q, hostCIDRHint(s))
	}
	if _, err := netip.ParsePrefix(s); err == nil {
		return fmt.Sprintf("invalid host %q: a cidr is not a host name; write {cidr: %s, ports: [...]} instead", q, q)
	}
	if strings.HasSuffix(s, ".") && len(s) > 1 {
		return fmt.Sprintf("invalid host %q: expected no trailing dot (write %q)", q, strings.TrimSuffix(s, "."))
	}
	if lower := strings.ToLower(s); lower != s {
		if checkHost(lower) == "" {
			return fmt.Sprintf("invalid host %q: expected lower case, so that the file and the generated policies read the same (write %q)", q, lower)
		}
	}
	if len(s) > maxHostLength {
		return fmt.Sprintf("invalid host %q: expected at most %d characters, found %d", q, maxHostLength, len(s))
	}
	name, wildcard := strings.CutPrefix(s, "*.")
	if strings.Contains(name, "*") {
		return fmt.Sprintf("invalid host %q: a wildcard is only allowed as the whole leftmost label (\"*.example.com\")", q)
	}
	labels := strings.Split(name, ".")
	if len(labels) < 2 {
		if wildcard {
			return fmt.Sprintf("invalid host %q: a wildcard directly under a top-level domain would match a whole registry; expected a domain of at least two labels (\"*.example.com\")", q)
		}
		return fmt.Sprintf("invalid host %q: expected a fully qualified name of at least two labels (api.example.com); a single label is resolved by each pod's search path, which a policy cannot follow", q)
	}
	for _, l := range labels {
		if msg := hostLabelProblem(l); msg != "" {
			return fmt.Sprintf("invalid host %q: %s", q, msg)
		}
	}
	if allDigits(labels[len(labels)-1]) {
		return fmt.Sprintf("invalid host %q: the last label of a host name is not all digits (an IP address is written as cidr: with /32)", q)
	}
	return ""
}

// hostLabelProblem says why l is not a DNS label (RFC 1123: letters,
// digits and hyphens, not starting or ending with a hyphen, 1 to 63
// characters), "" when it is one.
func hostLabelProblem(l string) string {
	switch {
	case l == "":
		return "expected a label between every two dots, found an empty one"
	case len(l) > 63:
		return fmt.Sprintf("label %q is longer than 63 characters", l)
	case l[0] == '-' || l[len(l)-1] == '-':
		return fmt.Sprintf("label %q starts or ends with '-'", l)
	}
	for _, r := range l {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return fmt.Sprintf("label %q contains %q; expected lower case letters, digits and '-'", l, r)
		}
	}
	return ""
}

func allDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// hostCIDRHint is the cidr an address written as a host stands for.
func hostCIDRHint(s string) string {
	a, err := netip.ParseAddr(strings.Trim(s, "[]"))
	if err != nil {
		return s
	}
	return netip.PrefixFrom(a, a.BitLen()).String()
}
