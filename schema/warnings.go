package schema

import (
	"fmt"
	"net/netip"
	"sort"
)

// Warnings are specs that are legal but risky. They are printed and the run
// goes on; `netdep generate --strict` turns them into errors.

// wideBits is the prefix length at or below which an ingress block counts as
// "the internet": /8 and wider (0.0.0.0/0, ::/0, 10.0.0.0/8 ...).
const wideBits = 8

// manyPorts is how many declared ports make "call every port" worth a word.
const manyPorts = 5

func (r *resolver) warn() {
	r.warnEmptyNamespaces()
	r.warnDNSNamespace()
	r.warnUnusedHosts()
	for _, it := range r.intents {
		switch {
		case it.entry.Kind == entryCIDR && it.from:
			r.warnWideIngress(it)
		case it.entry.Kind == entryCIDR:
			r.warnClusterEgress(it)
		case it.entry.Kind == entryRef && !it.from:
			r.warnEveryPort(it)
		}
	}
}

// warnEmptyNamespaces: a managed namespace without services still gets
// default-deny, so every pod there loses its traffic.
func (r *resolver) warnEmptyNamespaces() {
	for _, name := range r.nsNames {
		info := r.namespaces[name]
		if !info.ns.Managed || len(info.ns.Services) > 0 {
			continue
		}
		r.warnf(info.first.Namespace.Pos, "namespace", "managed namespace %q has no services: netdep will deny all traffic of every pod in it and allow only DNS; expected its services, or managed: false to only describe it", name)
	}
}

// warnDNSNamespace: a managed namespace that holds the cluster DNS of some
// environment. Generate admits DNS from every pod into the DNS pods
// (allow-dns-ingress); what it cannot know is what the DNS pods themselves
// must reach (the API server, upstream resolvers), which an egress-isolated
// namespace then denies unless a service with their selector declares it.
func (r *resolver) warnDNSNamespace() {
	for _, name := range r.nsNames {
		info := r.namespaces[name]
		if !info.ns.Managed || !info.ns.IsolateIngress && !info.ns.IsolateEgress {
			continue
		}
		var selector map[string]string
		found := false
		for _, env := range sortedKeys(r.settings) {
			if d := r.settings[env].dns; d != nil {
				for _, p := range d.Peers {
					if p.Kind == PeerSelector && p.Namespace == name && !found {
						selector, found = p.Selector, true
					}
				}
			}
		}
		if !found {
			continue
		}
		pods := "every pod"
		if len(selector) > 0 {
			pods = "pods " + labelText(selector)
		}
		msg := fmt.Sprintf("managed namespace %q holds the cluster DNS (%s): netdep admits DNS from every pod of the cluster to them (allow-dns-ingress; nodes and host-network pods are not pods to a namespaceSelector: admit them with from: cidr)", name, pods)
		if info.ns.IsolateEgress {
			msg += "; their own egress (the API server, upstream resolvers) is denied unless a service with their selector declares it"
		}
		r.warnf(info.first.Namespace.Pos, "namespace", "%s", msg)
	}
}

func labelText(m map[string]string) string {
	var b []byte
	for i, k := range sortedKeys(m) {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, k+"="+m[k]...)
	}
	return string(b)
}

// blocks returns, per environment where the intent applies, the blocks of its
// cidr ("" stands for the run without a project file).
func (r *resolver) blocks(it *intent) (envs []string, blocks map[string][]netip.Prefix) {
	blocks = map[string][]netip.Prefix{}
	envs = []string{""}
	if r.project != nil {
		envs = r.activeEnvs(it)
	}
	for _, env := range envs {
		if it.cidrName == "" {
			blocks[env] = []netip.Prefix{it.cidr}
		} else if s := r.settings[env]; s != nil {
			blocks[env] = s.cidrs[it.cidrName].blocks
		}
	}
	return envs, blocks
}

// inEnvs says where a finding holds: "" when everywhere the entry applies.
func (r *resolver) inEnvs(envs, all []string) string {
	if len(envs) == 0 || envs[0] == "" || len(envs) == len(all) {
		return ""
	}
	return " in " + envPlural(envs)
}

// warnWideIngress: ingress from the internet (or a block nearly as wide) to a
// service that does not say it is meant to face the internet.
func (r *resolver) warnWideIngress(it *intent) {
	if it.owner.svc.Edge {
		return
	}
	all, blocks := r.blocks(it)
	var widest netip.Prefix
	var where []string
	for _, env := range all {
		for _, b := range blocks[env] {
			if b.Bits() > wideBits {
				continue
			}
			if !widest.IsValid() || b.Bits() < widest.Bits() {
				widest = b
			}
			where = append(where, env)
			break
		}
	}
	if !widest.IsValid() {
		return
	}
	e := it.entry
	what := fmt.Sprintf("%s (2^%d addresses)", widest, widest.Addr().BitLen()-widest.Bits())
	if widest.Bits() == 0 {
		what = widest.String() + " (every address)"
	}
	if it.cidrName != "" {
		what = fmt.Sprintf("cidr set %q (%s)", it.cidrName, what)
	}
	r.warnf(e.CIDR.Pos, e.Field+".cidr", "ingress from %s%s to a service not marked as an edge; expected edge: true on a service meant to be reachable from the internet, or a narrower cidr", what, r.inEnvs(where, all))
}

// warnEveryPort: a call without a port opens every port the callee declares,
// today's and tomorrow's; with many ports that is rarely what is needed.
func (r *resolver) warnEveryPort(it *intent) {
	if _, _, port, _ := parseRef(it.entry.Ref.S); port != "" || len(it.peer.svc.Ports) <= manyPorts {
		return
	}
	peer := it.peer.svc
	var names []string
	for _, p := range peer.Ports {
		if p.Name != "" {
			names = append(names, p.Name)
		}
	}
	sort.Strings(names)
	ref := it.entry.Ref.S
	example := ref
	if len(names) > 0 {
		example = ref + ":" + names[0]
	}
	r.warnf(it.entry.Ref.Pos, it.entry.Field, "calls every one of the %d ports service %q declares; expected the ports it needs, one entry each (%s), so a port added to %s later is not opened to this caller too", len(peer.Ports), peer.ID(), example, peer.Name)
}

// warnClusterEgress: an egress block that covers the cluster's own pod or
// service range. ipBlock is meant for addresses outside the cluster: plugins
// that match it against pod addresses open every pod of the cluster through
// it, and service addresses are translated to pod addresses before policy
// applies, so it never allows what it seems to.
func (r *resolver) warnClusterEgress(it *intent) {
	if r.project == nil {
		return
	}
	type finding struct {
		block, rng netip.Prefix
		kind       string
	}
	found := map[finding][]string{}
	var order []finding
	all, blocks := r.blocks(it)
	for _, env := range all {
		s := r.settings[env]
		for _, b := range blocks[env] {
			for _, k := range []struct {
				kind   string
				ranges []netip.Prefix
			}{{"pod", s.pods}, {"service", s.services}} {
				for _, rng := range k.ranges {
					if !covers(b, rng) || excepted(it.except, rng) {
						continue
					}
					f := finding{b, rng, k.kind}
					if _, ok := found[f]; !ok {
						order = append(order, f)
					}
					found[f] = append(found[f], env)
				}
			}
		}
	}
	e := it.entry
	for _, f := range order {
		what := f.block.String()
		if it.cidrName != "" {
			what = fmt.Sprintf("cidr set %q (%s)", it.cidrName, f.block)
		}
		r.warnf(e.CIDR.Pos, e.Field+".cidr", "egress to %s covers the cluster's %s range %s%s; expected a block outside the cluster (ipBlock rules that match pods open every pod of the cluster; call services by name instead), or except: [%s]", what, f.kind, f.rng, r.inEnvs(found[f], all), f.rng)
	}
}

// covers reports whether block contains all of rng.
func covers(block, rng netip.Prefix) bool {
	return block.Addr().Is4() == rng.Addr().Is4() && block.Bits() <= rng.Bits() && block.Contains(rng.Addr())
}

func excepted(except []netip.Prefix, rng netip.Prefix) bool {
	for _, x := range except {
		if covers(x, rng) {
			return true
		}
	}
	return false
}
