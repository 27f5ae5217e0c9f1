package schema

import (
	"strings"
	"testing"
)

// The API server refuses IPv4-mapped IPv6 prefixes in an ipBlock ("must not
// have an IPv4-mapped IPv6 address"), so the loader must refuse them where
// they are written instead of generating a policy that cannot be applied
// (issue 13, hole 4; FuzzPipeline seeds #151 and #152).
func TestParseCIDRRefusesIPv4Mapped(t *testing.T) {
	for _, s := range []string{"::ffff:10.0.0.0/104", "::ffff:192.0.2.0/120", "::ffff:0.0.0.0/96"} {
		_, err := parseCIDR(s)
		if err == nil {
			t.Errorf("parseCIDR(%q) accepted an IPv4-mapped prefix", s)
			continue
		}
		if !strings.Contains(err.Error(), "IPv4-mapped") {
			t.Errorf("parseCIDR(%q) = %v; want a message naming the IPv4-mapped form", s, err)
		}
	}
	for _, s := range []string{"10.0.0.0/8", "2001:db8::/32", "::/0", "0.0.0.0/0"} {
		if _, err := parseCIDR(s); err != nil {
			t.Errorf("parseCIDR(%q) = %v; want it accepted", s, err)
		}
	}
}
