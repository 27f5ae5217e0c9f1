package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
)

// Testbed is the network a scenario runs on: one node namespace that routes
// between pods (where the agent programs iptables, and where etcd and the API
// server listen on loopback), and one namespace per endpoint, each with a /32
// address and a default route through a link-scoped gateway (the node's
// address) on its veth. Routed /32s rather than a shared bridged subnet: the
// node forwards every packet, so the agent's FORWARD rules see all of them,
// and no neighbour or proxy-ARP delays cost a first probe its answer.
type Testbed struct {
	Node *NetNS
	// NS maps an endpoint ID to its namespace.
	NS map[string]*NetNS

	mu      sync.Mutex
	created []*NetNS
}

// runTag names this run's namespaces.
func runTag() string { return namePrefix + strconv.Itoa(os.Getpid()) }

// NewTestbed creates the node and one namespace per endpoint. On error what
// was created is already deleted.
func NewTestbed(ctx context.Context, u *Universe, scenario int) (tb *Testbed, err error) {
	tb = &Testbed{NS: map[string]*NetNS{}}
	defer func() {
		if err != nil {
			tb.Close(context.Background())
			tb = nil
		}
	}()
	prefix := fmt.Sprintf("%s-%d-", runTag(), scenario)
	if tb.Node, err = tb.newNS(ctx, prefix+"node"); err != nil {
		return tb, err
	}
	for _, kv := range [][2]string{
		{"net.ipv4.ip_forward", "1"},
		{"net.ipv4.conf.all.rp_filter", "0"},
		{"net.ipv4.conf.default.rp_filter", "0"},
		// kube-router REJECTs with ICMP port unreachable, sent by the node.
		// The kernel's ICMP rate limits (per peer: a burst of 6 then one a
		// second; overall 1000/s) would drop most rejections of a sweep
		// from one source, so denied probes would wait for a timeout.
		{"net.ipv4.icmp_ratelimit", "0"},
		{"net.ipv4.icmp_msgs_per_sec", "1000000"},
		{"net.ipv4.icmp_msgs_burst", "1000000"},
	} {
		if err := tb.Node.Sysctl(kv[0], kv[1]); err != nil {
			return tb, fmt.Errorf("node sysctl %s: %w", kv[0], err)
		}
	}
	node := tb.Node.Name
	gw := nodeIP.String()
	// The node's InternalIP sits on its loopback (no dummy device needed:
	// the kernel answers ARP for any local address on any interface), and
	// is every pod's gateway.
	if err := ipCmd(ctx, "-n", node, "addr", "add", gw+"/32", "dev", "lo"); err != nil {
		return tb, err
	}
	for i, e := range u.Endpoints() {
		ns, err := tb.newNS(ctx, fmt.Sprintf("%s%d", prefix, i))
		if err != nil {
			return tb, err
		}
		tb.NS[e.ID()] = ns
		host := "veth" + strconv.Itoa(i)
		ip := e.IP.String()
		steps := [][]string{
			{"-n", node, "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns.Name},
			{"-n", ns.Name, "addr", "add", ip + "/32", "dev", "eth0"},
			{"-n", ns.Name, "link", "set", "eth0", "up"},
			{"-n", ns.Name, "route", "add", gw, "dev", "eth0", "scope", "link"},
			{"-n", ns.Name, "route", "add", "default", "via", gw, "dev", "eth0"},
			{"-n", node, "link", "set", host, "up"},
			{"-n", node, "route", "add", ip + "/32", "dev", host},
		}
		for _, s := range steps {
			if err := ipCmd(ctx, s...); err != nil {
				return tb, fmt.Errorf("%s: %w", e.ID(), err)
			}
		}
	}
	return tb, nil
}

func (tb *Testbed) newNS(ctx context.Context, name string) (*NetNS, error) {
	ns, err := NewNetNS(ctx, name)
	if err != nil {
		return nil, err
	}
	tb.mu.Lock()
	tb.created = append(tb.created, ns)
	tb.mu.Unlock()
	return ns, nil
}

// Close deletes every namespace it created (and with them their veths,
// routes, iptables rules, ipsets and any process left inside). Safe to call
// twice.
func (tb *Testbed) Close(ctx context.Context) []error {
	tb.mu.Lock()
	created := tb.created
	tb.created = nil
	tb.mu.Unlock()
	var errs []error
	for i := len(created) - 1; i >= 0; i-- {
		if err := created[i].Delete(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
