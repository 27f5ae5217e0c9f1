package importer

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/generator/eval"
)

// addrKey stands for "any address class" in reason keys: address classes of
// the check's world are cut by the imported CIDRs and need not match ours.
const addrKey = "(addresses)"

type block struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

func (b block) contains(a netip.Addr) bool {
	if !b.cidr.Contains(a) {
		return false
	}
	for _, x := range b.except {
		if x.Contains(a) {
			return false
		}
	}
	return true
}

func (b block) text() string {
	s := "cidr: " + quote(b.cidr.String())
	if len(b.except) > 0 {
		var xs []string
		for _, x := range b.except {
			xs = append(xs, quote(x.String()))
		}
		s += ", except: [" + strings.Join(xs, ", ") + "]"
	}
	return s
}

// cidrs declares the address classes the policies admit, as the ipBlocks
// the policies wrote (or the whole address space), carved around the pod
// network, each with the ports every address of the block gets.
func (im *policyImporter) cidrs() {
	blocks := im.blocks()
	for _, s := range im.svcs {
		for _, egress := range []bool{true, false} {
			if egress && im.isEg(s.ns) || !egress && im.isIn(s.ns) {
				im.cidrEntries(s, egress, blocks)
			}
		}
	}
}

// blocks are the ipBlocks of the policies and the two whole address
// spaces, each carved around the pod network, widest first.
func (im *policyImporter) blocks() []block {
	seen := map[string]bool{}
	var blocks []block
	add := func(b block) {
		if im.carvePodNetwork(&b) {
			return
		}
		sort.Slice(b.except, func(i, j int) bool { return b.except[i].String() < b.except[j].String() })
		if k := b.text(); !seen[k] {
			seen[k] = true
			blocks = append(blocks, b)
		}
	}
	for _, p := range im.pols {
		eachPeer(p, func(field string, peer networkingv1.NetworkPolicyPeer) {
			if peer.IPBlock == nil {
				return
			}
			c, err := netip.ParsePrefix(peer.IPBlock.CIDR)
			if err != nil {
				return
			}
			b := block{cidr: c.Masked()}
			for _, x := range peer.IPBlock.Except {
				if p, err := netip.ParsePrefix(x); err == nil {
					b.except = append(b.except, p.Masked())
				}
			}
			if b.cidr.Bits() == 0 && len(im.o.PodCIDRs) == 0 {
				im.notes[fmt.Sprintf("%s %s.ipBlock %s also covers the cluster's pod addresses, which some network plugins match against ipBlocks; imported as it is. Pass --pod-cidr with the pod network to import the block with the pod network carved out as an except, so that no pod is admitted by its address", policyRef(p), field, b.cidr)] = true
			}
			add(b)
		})
	}
	add(block{cidr: netip.MustParsePrefix("0.0.0.0/0")})
	add(block{cidr: netip.MustParsePrefix("::/0")})
	sort.SliceStable(blocks, func(i, j int) bool {
		if blocks[i].cidr.Bits() != blocks[j].cidr.Bits() {
			return blocks[i].cidr.Bits() < blocks[j].cidr.Bits()
		}
		return blocks[i].text() < blocks[j].text()
	})
	return blocks
}

// carvePodNetwork adds the pod networks inside b to its excepts, and
// reports whether b lies entirely inside one (and is left out).
func (im *policyImporter) carvePodNetwork(b *block) bool {
	for _, pod := range im.o.PodCIDRs {
		switch {
		case pod.Bits() <= b.cidr.Bits() && pod.Contains(b.cidr.Addr()):
			return true
		case b.cidr.Bits() < pod.Bits() && b.cidr.Contains(pod.Addr()):
			inExcept := false
			for _, x := range b.except {
				if x.Bits() <= pod.Bits() && x.Contains(pod.Addr()) {
					inExcept = true
				}
			}
			if !inExcept {
				b.except = append(b.except, pod)
			}
		}
	}
	return false
}

// cidrEntries writes s's cidr entries in one direction: for each block,
// widest first, the ports every address class inside it gets, where that
// adds something to the narrower blocks' entries.
func (im *policyImporter) cidrEntries(s *svcInfo, egress bool, blocks []block) {
	self := eval.PodEndpoint(s.pod)
	ports := func(x int) eval.PortSet {
		if egress {
			return im.r.Ports(self, eval.ExternalEndpoint(x))
		}
		return im.r.Ports(eval.ExternalEndpoint(x), self)
	}
	covered := make([]eval.PortSet, len(im.ext))
	for _, b := range blocks {
		var cls []int
		for x := range im.ext {
			if b.contains(im.ext[x].Prefixes[0].Addr()) {
				cls = append(cls, x)
			}
		}
		if len(cls) == 0 {
			continue
		}
		q := eval.AllPorts()
		for _, x := range cls {
			q = q.Intersect(ports(x))
		}
		if !egress && !q.IsAll() {
			q = q.Intersect(s.doc.portSet())
		}
		if q.IsEmpty() {
			continue
		}
		fresh := false
		for _, x := range cls {
			if !q.Subtract(covered[x]).IsEmpty() {
				fresh = true
			}
		}
		if !fresh {
			continue
		}
		for _, x := range cls {
			covered[x] = covered[x].Union(q)
		}
		if egress {
			addEntry(s.doc.calls, fmt.Sprintf("{%s, ports: %s}", b.text(), portValues(q)),
				im.origin(self, eval.ExternalEndpoint(cls[0]), q))
			continue
		}
		if b.cidr.Bits() <= 8 {
			s.doc.edge = true
		}
		addEntry(s.doc.from, fmt.Sprintf("{%s%s}", b.text(), ownPorts(s.doc, q)),
			im.origin(eval.ExternalEndpoint(cls[0]), self, q))
	}
	for x := range im.ext {
		if im.inPodNetwork(x) && !ports(x).IsEmpty() {
			key := s.id() + "|" + addrKey
			if !egress {
				key = addrKey + "|" + s.id()
			}
			im.reasons[key] = fmt.Sprintf("an ipBlock admitted addresses in the pod network (--pod-cidr %s) at %s; pods are named by service, so the import carves the pod network out", joinPrefixes(im.o.PodCIDRs), s.id())
		}
	}
}

func (im *policyImporter) inPodNetwork(x int) bool {
	for _, pod := range im.o.PodCIDRs {
		if pod.Contains(im.ext[x].Prefixes[0].Addr()) {
			return true
		}
	}
	return false
}

func joinPrefixes(ps []netip.Prefix) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.String())
	}
	return strings.Join(s, ",")
}
