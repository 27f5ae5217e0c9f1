package eval

import (
	"math/rand"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestSubtract checks Subtract against its definition, port by port, on
// random sets over a small port window (both protocols, ranges that touch,
// overlap and nest).
func TestSubtract(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	protos := []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP}
	random := func() PortSet {
		var rs []PortRange
		for i, n := 0, r.Intn(5); i < n; i++ {
			from := int32(1 + r.Intn(40))
			rs = append(rs, PortRange{Protocol: protos[r.Intn(2)], From: from, To: from + int32(r.Intn(10))})
		}
		return NewPortSet(rs...)
	}
	for i := 0; i < 5000; i++ {
		a, b := random(), random()
		got := a.Subtract(b)
		for _, p := range protos {
			for port := int32(1); port <= 55; port++ {
				want := a.Contains(p, port) && !b.Contains(p, port)
				if got.Contains(p, port) != want {
					t.Fatalf("(%v) \\ (%v) = %v: %d/%s should be %v", a, b, got, port, p, want)
				}
			}
		}
		if !got.Union(a.Intersect(b)).Equal(a) {
			t.Fatalf("(%v) \\ (%v) = %v does not partition a with a ∩ b", a, b, got)
		}
	}
	if !AllPorts().Subtract(PortSet{}).Equal(AllPorts()) || !AllPorts().Subtract(AllPorts()).IsEmpty() {
		t.Error("Subtract of the empty and the full set")
	}
}
