package eval

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Protocols are the protocols a NetworkPolicyPort may name, in the order
// PortSet reports them.
var Protocols = []corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}

// MinPort and MaxPort bound the ports a rule without ports allows
// ("If this field is empty or missing, this rule matches all ports").
const (
	MinPort = 1
	MaxPort = 65535
)

// PortRange is the ports From..To (inclusive) of one protocol.
type PortRange struct {
	Protocol corev1.Protocol
	From, To int32
}

func (r PortRange) String() string {
	if r.From == r.To {
		return fmt.Sprintf("%d/%s", r.From, r.Protocol)
	}
	return fmt.Sprintf("%d-%d/%s", r.From, r.To, r.Protocol)
}

// PortSet is a set of (protocol, port) pairs, kept as sorted disjoint
// ranges. The zero value is the empty set.
type PortSet struct {
	// spans are closed intervals on one line where protocol p, port n is
	// p<<16|n: unions and intersections need no per-protocol case.
	spans []span
}

type span struct{ lo, hi uint32 }

func protoRank(p corev1.Protocol) (uint32, bool) {
	switch p {
	case corev1.ProtocolTCP:
		return 0, true
	case corev1.ProtocolUDP:
		return 1, true
	case corev1.ProtocolSCTP:
		return 2, true
	}
	return 0, false
}

func point(p corev1.Protocol, port int32) (uint32, bool) {
	r, ok := protoRank(p)
	if !ok || port < MinPort || port > MaxPort {
		return 0, false
	}
	return r<<16 | uint32(port), true
}

// NewPortSet returns the union of the given ranges. Ranges of unknown
// protocols or outside 1-65535 are clipped away.
func NewPortSet(ranges ...PortRange) PortSet {
	var s []span
	for _, r := range ranges {
		from, to := max(r.From, MinPort), min(r.To, MaxPort)
		if from > to {
			continue
		}
		lo, ok := point(r.Protocol, from)
		if !ok {
			continue
		}
		hi, _ := point(r.Protocol, to)
		s = append(s, span{lo, hi})
	}
	return PortSet{spans: normalize(s)}
}

// AllPorts is every port of every protocol: what a rule without ports allows.
func AllPorts() PortSet { return allPorts }

var allPorts = NewPortSet(
	PortRange{corev1.ProtocolTCP, MinPort, MaxPort},
	PortRange{corev1.ProtocolUDP, MinPort, MaxPort},
	PortRange{corev1.ProtocolSCTP, MinPort, MaxPort},
)

func normalize(s []span) []span {
	if len(s) == 0 {
		return nil
	}
	slices.SortFunc(s, func(a, b span) int { return int(a.lo) - int(b.lo) })
	out := s[:1]
	for _, x := range s[1:] {
		last := &out[len(out)-1]
		// merge overlapping and adjacent spans of the same protocol.
		if x.lo <= last.hi+1 && x.lo>>16 == last.hi>>16 {
			last.hi = max(last.hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// IsEmpty reports whether s has no port.
func (s PortSet) IsEmpty() bool { return len(s.spans) == 0 }

// IsAll reports whether s is every port of every protocol.
func (s PortSet) IsAll() bool { return s.Equal(allPorts) }

// Contains reports whether port of protocol p is in s.
func (s PortSet) Contains(p corev1.Protocol, port int32) bool {
	x, ok := point(p, port)
	if !ok {
		return false
	}
	_, found := slices.BinarySearchFunc(s.spans, x, func(a span, x uint32) int {
		switch {
		case a.hi < x:
			return -1
		case a.lo > x:
			return 1
		}
		return 0
	})
	return found
}

// Union returns s ∪ o.
func (s PortSet) Union(o PortSet) PortSet {
	if len(o.spans) == 0 {
		return s
	}
	if len(s.spans) == 0 {
		return o
	}
	all := make([]span, 0, len(s.spans)+len(o.spans))
	all = append(all, s.spans...)
	all = append(all, o.spans...)
	return PortSet{spans: normalize(all)}
}

// Intersect returns s ∩ o.
func (s PortSet) Intersect(o PortSet) PortSet {
	var out []span
	i, j := 0, 0
	for i < len(s.spans) && j < len(o.spans) {
		a, b := s.spans[i], o.spans[j]
		lo, hi := max(a.lo, b.lo), min(a.hi, b.hi)
		if lo <= hi {
			out = append(out, span{lo, hi})
		}
		if a.hi < b.hi {
			i++
		} else {
			j++
		}
	}
	return PortSet{spans: out}
}

// Subtract returns s \ o: the ports of s that are not in o.
func (s PortSet) Subtract(o PortSet) PortSet {
	var out []span
	j := 0
	for _, a := range s.spans {
		lo := a.lo
		for j < len(o.spans) && o.spans[j].hi < lo {
			j++
		}
		for k := j; k < len(o.spans) && o.spans[k].lo <= a.hi; k++ {
			b := o.spans[k]
			if b.lo > lo {
				out = append(out, span{lo, b.lo - 1})
			}
			if b.hi >= a.hi {
				lo = a.hi + 1
				break
			}
			lo = b.hi + 1
		}
		if lo <= a.hi {
			out = append(out, span{lo, a.hi})
		}
	}
	return PortSet{spans: out}
}

// Equal reports whether s and o hold the same ports.
func (s PortSet) Equal(o PortSet) bool { return slices.Equal(s.spans, o.spans) }

// Ranges returns s as sorted ranges: by protocol (TCP, UDP, SCTP), then port.
func (s PortSet) Ranges() []PortRange {
	out := make([]PortRange, 0, len(s.spans))
	for _, x := range s.spans {
		out = append(out, PortRange{
			Protocol: Protocols[x.lo>>16],
			From:     int32(x.lo & 0xffff),
			To:       int32(x.hi & 0xffff),
		})
	}
	return out
}

// String formats s as "8080/TCP,9000-9100/TCP,53/UDP", "all" or "none".
func (s PortSet) String() string {
	if s.IsEmpty() {
		return "none"
	}
	if s.IsAll() {
		return "all"
	}
	var b strings.Builder
	for i, r := range s.Ranges() {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(r.String())
	}
	return b.String()
}

// key is a compact map key for grouping equal sets.
func (s PortSet) key() string {
	b := make([]byte, 0, 8*len(s.spans))
	for _, x := range s.spans {
		b = strconv.AppendUint(b, uint64(x.lo), 36)
		b = append(b, '-')
		b = strconv.AppendUint(b, uint64(x.hi), 36)
		b = append(b, ',')
	}
	return string(b)
}
