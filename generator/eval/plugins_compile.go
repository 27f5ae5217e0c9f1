package eval

import (
	"cmp"
	"slices"
)

// endpoints is how many endpoint classes a rule of one direction may
// admit: every one for egress, all but the host classes for ingress (a
// host is only ever a destination).
func (c *compiler) endpoints(ingress bool) int {
	if ingress {
		return c.e.nPod + len(c.e.part.classes)
	}
	return c.e.nEP
}

// buildPlugins compiles the plugins' policies into pols after the
// NetworkPolicies (see Plugins): Calico's first, then the CiliumNetworkPolicies
// that isolate, then the ones that only add allows to pods something
// else isolates.
func (c *compiler) buildPlugins() {
	c.buildCalico()
	type later struct {
		p      int
		egress bool
	}
	var additive []later
	for i := range c.e.cilium {
		p := &c.e.cilium[i]
		for _, egress := range []bool{false, true} {
			rules, iso := p.ingress, p.isoIn
			if egress {
				rules, iso = p.egress, p.isoEg
			}
			if len(rules) == 0 {
				continue
			}
			if !iso {
				additive = append(additive, later{i, egress})
				continue
			}
			c.addCilium(p, egress, true)
		}
	}
	for _, l := range additive {
		c.addCilium(&c.e.cilium[l.p], l.egress, false)
	}
}

// addCilium adds the cpolicy of one direction of p; one that does not
// isolate applies only to the pods already isolated that way.
func (c *compiler) addCilium(p *ciliumPolicy, egress, isolate bool) {
	e := c.e
	ns := e.nsIndex[p.ref.Namespace]
	pi := len(e.pols)
	cp := cpolicy{ns: ns, ref: p.ref, ingress: !egress, egress: egress}
	iso := e.ingressIso
	if egress {
		iso = e.egressIso
	}
	c.pods(e.nsMask[ns], p.sel).each(func(cl int) {
		if isolate || iso.has(cl) {
			cp.selList = append(cp.selList, int32(cl))
		}
	})
	rules := p.ingress
	if egress {
		rules = p.egress
	}
	for _, r := range rules {
		cr := c.pluginRule(pi, ns, &r, !egress)
		if egress {
			cp.egRules = append(cp.egRules, cr)
		} else {
			cp.inRules = append(cp.inRules, cr)
		}
	}
	c.register(pi, &cp)
	e.pols = append(e.pols, cp)
}

// register records cp (index pi) as isolating its pods in its directions.
func (c *compiler) register(pi int, cp *cpolicy) {
	e := c.e
	for _, cl := range cp.selList {
		if cp.ingress {
			e.inPols[cl] = append(e.inPols[cl], int32(pi))
			e.ingressIso.set(int(cl))
		}
		if cp.egress {
			e.egPols[cl] = append(e.egPols[cl], int32(pi))
			e.egressIso.set(int(cl))
		}
	}
}

// pluginRule compiles one parsed allow rule: pods by selector, address
// classes by CIDR (never pods: Cilium's CIDR rules select what is outside
// the cluster), host classes by toFQDNs and, for egress, by a whole-family
// CIDR. A rule with no peer matches nothing.
func (c *compiler) pluginRule(pi, ns int, r *pluginRule, ingress bool) crule {
	e := c.e
	out := crule{policy: int32(pi), index: int32(r.index), ports: r.ports}
	collected := c.scratch
	collected.clear()
	for _, s := range r.endpoints {
		c.peerInto(collected, ns, s.nsSel, s.podSel)
	}
	for _, b := range r.blocks {
		bi := c.blockIdx[b.key()]
		for _, cl := range e.part.blockClasses[bi] {
			collected.set(e.nPod + cl)
		}
		if b.holdsHost() && !ingress {
			e.setHosts(collected)
		}
	}
	if !ingress {
		for _, f := range r.fqdns {
			for _, h := range e.hostClasses(f) {
				collected.set(h)
			}
		}
	}
	out.peers = compact(collected)
	return out
}

// buildCalico compiles the Calico policies per namespace and direction:
// the first policy (by order, then name) whose first rule other than Log
// is Allow, Deny or Pass decides for every pod of the namespace what the
// NetworkPolicies did not allow; with none deciding, a policy applying
// there still isolates (the tier's end denies).
func (c *compiler) buildCalico() {
	e := c.e
	if len(e.calico) == 0 {
		return
	}
	order := make([]int, len(e.calico))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int {
		pa, pb := &e.calico[a], &e.calico[b]
		return cmp.Or(cmp.Compare(pa.ref.Namespace, pb.ref.Namespace), cmp.Compare(pa.order, pb.order), cmp.Compare(pa.ref.Name, pb.ref.Name))
	})
	for _, egress := range []bool{false, true} {
		decided := map[string]bool{}
		applies := map[string]int{} // namespace -> first applying policy
		for _, i := range order {
			p := &e.calico[i]
			on, rule, action := p.in, p.inRule, p.inAction
			if egress {
				on, rule, action = p.eg, p.egRule, p.egAction
			}
			ns := p.ref.Namespace
			if !on || decided[ns] {
				continue
			}
			if _, ok := applies[ns]; !ok {
				applies[ns] = i
			}
			if action == "" {
				continue
			}
			decided[ns] = true
			c.addCalico(p, egress, rule, action)
		}
		for _, ns := range slices.Sorted(mapKeys(applies)) {
			if !decided[ns] {
				c.addCalico(&e.calico[applies[ns]], egress, -1, "")
			}
		}
	}
}

func mapKeys(m map[string]int) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// addCalico adds the cpolicy of one direction of a Calico policy over
// every pod of its namespace: an Allow or Pass rule admits everyone on
// every port, a Deny (or no deciding rule) admits no one.
func (c *compiler) addCalico(p *calicoPolicy, egress bool, rule int, action string) {
	e := c.e
	ns := e.nsIndex[p.ref.Namespace]
	pi := len(e.pols)
	cp := cpolicy{ns: ns, ref: p.ref, ingress: !egress, egress: egress}
	e.nsMask[ns].each(func(cl int) { cp.selList = append(cp.selList, int32(cl)) })
	if action == CalicoAllow || action == CalicoPass {
		all := newBitset(e.nEP)
		all.setRange(0, c.endpoints(!egress))
		r := crule{policy: int32(pi), index: int32(rule), peers: members{dense: all}, allPeers: true, ports: cports{all: true}, pass: action == CalicoPass}
		if egress {
			cp.egRules = append(cp.egRules, r)
		} else {
			cp.inRules = append(cp.inRules, r)
		}
	}
	c.register(pi, &cp)
	e.pols = append(e.pols, cp)
}
