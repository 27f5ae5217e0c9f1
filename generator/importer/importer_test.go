package importer

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
)

func TestAtoms(t *testing.T) {
	tcp := func(from, to int32) eval.PortRange {
		return eval.PortRange{Protocol: corev1.ProtocolTCP, From: from, To: to}
	}
	for _, tc := range []struct {
		name string
		sets []eval.PortSet
		want []eval.PortRange
	}{
		{"one port", []eval.PortSet{eval.NewPortSet(tcp(80, 80))}, []eval.PortRange{tcp(80, 80)}},
		{"a port inside a range cuts it", []eval.PortSet{eval.NewPortSet(tcp(9000, 9100)), eval.NewPortSet(tcp(9050, 9050))},
			[]eval.PortRange{tcp(9000, 9049), tcp(9050, 9050), tcp(9051, 9100)}},
		{"overlapping ranges", []eval.PortSet{eval.NewPortSet(tcp(1, 10)), eval.NewPortSet(tcp(5, 20))},
			[]eval.PortRange{tcp(1, 4), tcp(5, 10), tcp(11, 20)}},
		{"nothing", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, atoms(tc.sets)); diff != "" {
				t.Errorf("atoms (-want +got):\n%s", diff)
			}
		})
	}
}

func TestQuote(t *testing.T) {
	for in, want := range map[string]string{
		"frontend":          "frontend",
		"app.kubernetes.io": "app.kubernetes.io",
		"10.0.0.0/8":        "10.0.0.0/8",
		"::/0":              `"::/0"`,
		"8080":              `"8080"`,
		"on":                `"on"`,
		"-x":                `"-x"`,
		"":                  `""`,
	} {
		if got := quote(in); got != want {
			t.Errorf("quote(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteRef("ns/svc:http"); got != "ns/svc:http" {
		t.Errorf("quoteRef = %s", got)
	}
}

func TestPortName(t *testing.T) {
	for _, tc := range []struct {
		r    eval.PortRange
		want string
	}{
		{eval.PortRange{Protocol: corev1.ProtocolTCP, From: 8080, To: 8080}, "tcp-8080"},
		{eval.PortRange{Protocol: corev1.ProtocolUDP, From: 53, To: 53}, "udp-53"},
		{eval.PortRange{Protocol: corev1.ProtocolSCTP, From: 65000, To: 65535}, "sctp65000-65535"},
	} {
		if got := portName(tc.r); got != tc.want || len(got) > 15 {
			t.Errorf("portName(%v) = %q, want %q (at most 15 characters)", tc.r, got, tc.want)
		}
	}
}

func TestNaturalLess(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"f.yaml:9:7: x", "f.yaml:10:7: x", true},
		{"f.yaml:10:7: x", "f.yaml:9:7: x", false},
		{"f.yaml:10:7", "f.yaml:10:12", true},
		{"a", "b", true},
		{"abc", "ab", false},
		{"x007", "x7", false},
	} {
		if got := naturalLess(tc.a, tc.b); got != tc.want {
			t.Errorf("naturalLess(%q, %q) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}
