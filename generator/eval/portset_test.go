package eval_test

import (
	"testing"

	"github.com/netdep/netdep/generator/eval"
	corev1 "k8s.io/api/core/v1"
)

func TestPortSet(t *testing.T) {
	tcp := func(from, to int32) eval.PortRange {
		return eval.PortRange{Protocol: corev1.ProtocolTCP, From: from, To: to}
	}
	udp := func(from, to int32) eval.PortRange {
		return eval.PortRange{Protocol: corev1.ProtocolUDP, From: from, To: to}
	}
	tests := []struct {
		name string
		got  eval.PortSet
		want string
	}{
		{"empty", eval.NewPortSet(), "none"},
		{"all", eval.AllPorts(), "all"},
		{"adjacent ranges merge", eval.NewPortSet(tcp(80, 80), tcp(81, 90), udp(53, 53)), "80-90/TCP,53/UDP"},
		{"protocols never merge", eval.NewPortSet(tcp(65535, 65535), udp(1, 1)), "65535/TCP,1/UDP"},
		{"clipped to 1-65535", eval.NewPortSet(tcp(0, 70000)), "1-65535/TCP"},
		{"unknown protocol dropped", eval.NewPortSet(eval.PortRange{Protocol: "ICMP", From: 1, To: 2}), "none"},
		{"union", eval.NewPortSet(tcp(80, 90)).Union(eval.NewPortSet(tcp(85, 100), udp(53, 53))), "80-100/TCP,53/UDP"},
		{"intersect", eval.NewPortSet(tcp(80, 90), tcp(100, 200), udp(53, 53)).Intersect(eval.NewPortSet(tcp(85, 150), udp(1, 65535))), "85-90/TCP,100-150/TCP,53/UDP"},
		{"intersect disjoint", eval.NewPortSet(tcp(80, 80)).Intersect(eval.NewPortSet(udp(80, 80))), "none"},
	}
	for _, tc := range tests {
		if s := tc.got.String(); s != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, s, tc.want)
		}
	}
	s := eval.NewPortSet(tcp(80, 90), udp(53, 53))
	for _, c := range []struct {
		proto corev1.Protocol
		port  int32
		want  bool
	}{
		{corev1.ProtocolTCP, 79, false}, {corev1.ProtocolTCP, 80, true}, {corev1.ProtocolTCP, 90, true},
		{corev1.ProtocolTCP, 91, false}, {corev1.ProtocolUDP, 53, true}, {corev1.ProtocolSCTP, 53, false},
		{corev1.ProtocolUDP, 0, false},
	} {
		if got := s.Contains(c.proto, c.port); got != c.want {
			t.Errorf("Contains(%s, %d) = %v", c.proto, c.port, got)
		}
	}
}
