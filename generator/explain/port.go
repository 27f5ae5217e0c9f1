package explain

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/schema"
)

// Port is one port to check, with how answers show it: "7070/TCP (grpc)",
// "8080/TCP", "9000/TCP (first port of 9000-9010)".
type Port struct {
	Protocol corev1.Protocol
	Port     int32
	Label    string
}

// ParsePorts resolves PORT[/PROTO] (a number or a port name of dst) against
// dst, or, when port is "", lists every port dst declares.
func ParsePorts(dst Endpoint, port string) ([]Port, error) {
	var declared []schema.Port
	if dst.Service != nil {
		declared = dst.Service.Ports
	}
	if port == "" {
		if dst.Service == nil {
			return nil, fmt.Errorf("%s is not a service, so it declares no ports; give one: %s:PORT[/PROTO]", dst, dst)
		}
		if len(declared) == 0 {
			return nil, fmt.Errorf("%s declares no ports; give one: %s:PORT[/PROTO]", dst, dst)
		}
		var out []Port
		for _, p := range declared {
			out = append(out, Port{p.Protocol, p.Port, portLabel(p)})
		}
		return out, nil
	}
	num, protoText, hasProto := strings.Cut(port, "/")
	var proto corev1.Protocol
	if hasProto {
		switch strings.ToUpper(protoText) {
		case "TCP", "UDP", "SCTP":
			proto = corev1.Protocol(strings.ToUpper(protoText))
		default:
			return nil, fmt.Errorf("unknown protocol %q: expected TCP, UDP or SCTP", protoText)
		}
	}
	if n, err := strconv.Atoi(num); err == nil {
		if n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %d out of range: expected 1 to 65535", n)
		}
		if proto == "" {
			// A number the destination declares for one protocol only means
			// that protocol; otherwise TCP, as Kubernetes defaults it.
			proto = corev1.ProtocolTCP
			var protos []corev1.Protocol
			for _, p := range declared {
				if int32(n) >= p.Port && (int32(n) <= p.EndPort || int32(n) == p.Port) && !slices.Contains(protos, p.Protocol) {
					protos = append(protos, p.Protocol)
				}
			}
			if len(protos) == 1 {
				proto = protos[0]
			}
		}
		q := Port{proto, int32(n), strconv.Itoa(n) + "/" + string(proto)}
		for _, p := range declared {
			if p.Name != "" && p.Protocol == proto && p.Port == int32(n) && p.EndPort == 0 {
				q.Label += " (" + p.Name + ")"
			}
		}
		return []Port{q}, nil
	}
	var names []string
	for _, p := range declared {
		if p.Name == num && (proto == "" || proto == p.Protocol) {
			return []Port{{p.Protocol, p.Port, portLabel(p)}}, nil
		}
		if p.Name != "" {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s has no port named %q: give a number", dst, num)
	}
	return nil, fmt.Errorf("%s has no port named %q (it declares %s)", dst, num, strings.Join(names, ", "))
}

func portLabel(p schema.Port) string {
	s := strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol)
	if p.EndPort != 0 {
		s += " (first port of " + strconv.Itoa(int(p.Port)) + "-" + strconv.Itoa(int(p.EndPort)) + ")"
	} else if p.Name != "" {
		s += " (" + p.Name + ")"
	}
	return s
}
