package importer

import (
	"strings"
	"testing"
)

// Hubble reports an IPv4 peer of a dual-stack socket as an IPv4-mapped IPv6
// address. Imported as it is, it becomes a cidr the loader and the API
// server refuse (issue 13, hole 4); it is the IPv4 address.
func TestReadObservedUnmapsIPv4MappedAddresses(t *testing.T) {
	line := `{"flow":{"verdict":"FORWARDED","IP":{"source":"10.244.1.5","destination":"::ffff:203.0.113.7"},"l4":{"TCP":{"destination_port":443}},"source":{"namespace":"shop","labels":["k8s:app=web"],"pod_name":"web-6d5f7-abcde"},"destination":{},"traffic_direction":"EGRESS"}}` + "\n"
	o, problems := ReadObserved("flows.json", strings.NewReader(line))
	if len(problems) != 0 {
		t.Fatalf("ReadObserved: %v", problems)
	}
	if len(o.Observations) != 1 {
		t.Fatalf("got %d observations, want 1", len(o.Observations))
	}
	if ip := o.Observations[0].Dst.IP; !ip.Is4() || ip.String() != "203.0.113.7" {
		t.Errorf("destination address = %v; want the unmapped 203.0.113.7", ip)
	}
}
