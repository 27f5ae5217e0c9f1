package eval

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// ipBlock is a parsed, deduplicated NetworkPolicy ipBlock.
type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

func (b ipBlock) contains(a netip.Addr) bool {
	if !b.cidr.Contains(a) {
		return false
	}
	for _, e := range b.except {
		if e.Contains(a) {
			return false
		}
	}
	return true
}

func (b ipBlock) key() string {
	var s strings.Builder
	s.WriteString(b.cidr.String())
	for _, e := range b.except {
		s.WriteByte(' ')
		s.WriteString(e.String())
	}
	return s.String()
}

// partition splits the address space into classes that no ipBlock and no
// caller prefix tells apart: the coarsest partition in which each block is a
// union of classes. Classes never mix address families.
type partition struct {
	classes []External
	// intervals, sorted by start, cover both families; class of each.
	starts []netip.Addr
	class  []int
	// blockClasses[b] lists the classes inside block b.
	blockClasses [][]int
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Masked().Addr()
	b := a.AsSlice()
	for i := p.Bits(); i < len(b)*8; i++ {
		b[i/8] |= 0x80 >> (i % 8)
	}
	out, _ := netip.AddrFromSlice(b)
	return out
}

func buildPartition(blocks []ipBlock, extra []netip.Prefix) partition {
	// Boundaries: every prefix starts an interval and ends one; 0.0.0.0 and
	// :: start the two families.
	bounds := []netip.Addr{netip.IPv4Unspecified(), netip.IPv6Unspecified()}
	addPrefix := func(p netip.Prefix) {
		p = p.Masked()
		bounds = append(bounds, p.Addr())
		if n := lastAddr(p).Next(); n.IsValid() && n.BitLen() == p.Addr().BitLen() {
			bounds = append(bounds, n)
		}
	}
	for _, b := range blocks {
		addPrefix(b.cidr)
		for _, e := range b.except {
			addPrefix(e)
		}
	}
	for _, p := range extra {
		addPrefix(p)
	}
	slices.SortFunc(bounds, netip.Addr.Compare)
	bounds = slices.Compact(bounds)

	// Signature of each interval: the blocks and extra prefixes containing
	// it. Intervals never straddle a prefix boundary, so testing the start
	// address decides for the whole interval.
	sigs := make([][]int32, len(bounds))
	for bi, b := range blocks {
		lo, hi := coveredIntervals(bounds, b.cidr)
		for i := lo; i < hi; i++ {
			if b.contains(bounds[i]) {
				sigs[i] = append(sigs[i], int32(bi))
			}
		}
	}
	for pi, p := range extra {
		lo, hi := coveredIntervals(bounds, p)
		for i := lo; i < hi; i++ {
			sigs[i] = append(sigs[i], int32(len(blocks)+pi))
		}
	}

	var part partition
	part.blockClasses = make([][]int, len(blocks))
	byKey := map[string]int{}
	ends := make([]netip.Addr, 0, len(bounds))
	for i := range bounds {
		var end netip.Addr
		if i+1 < len(bounds) && bounds[i+1].BitLen() == bounds[i].BitLen() {
			end = bounds[i+1].Prev()
		} else if bounds[i].Is4() {
			end = netip.MustParseAddr("255.255.255.255")
		} else {
			end = netip.MustParseAddr("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
		}
		ends = append(ends, end)
		var k strings.Builder
		if bounds[i].Is4() {
			k.WriteString("4:")
		} else {
			k.WriteString("6:")
		}
		for _, s := range sigs[i] {
			k.WriteString(strconv.Itoa(int(s)))
			k.WriteByte(',')
		}
		c, ok := byKey[k.String()]
		if !ok {
			c = len(part.classes)
			byKey[k.String()] = c
			part.classes = append(part.classes, External{})
			for _, s := range sigs[i] {
				if int(s) < len(blocks) {
					part.blockClasses[s] = append(part.blockClasses[s], c)
				}
			}
		}
		part.starts = append(part.starts, bounds[i])
		part.class = append(part.class, c)
	}
	// Prefixes per class; consecutive intervals of one class merge first.
	for i := 0; i < len(bounds); {
		j := i
		for j+1 < len(bounds) && part.class[j+1] == part.class[i] && bounds[j+1].BitLen() == bounds[i].BitLen() {
			j++
		}
		c := part.class[i]
		part.classes[c].Prefixes = appendRange(part.classes[c].Prefixes, bounds[i], ends[j])
		i = j + 1
	}
	return part
}

// coveredIntervals returns the interval indexes [lo, hi) inside p.
func coveredIntervals(bounds []netip.Addr, p netip.Prefix) (int, int) {
	p = p.Masked()
	lo, _ := slices.BinarySearchFunc(bounds, p.Addr(), netip.Addr.Compare)
	last := lastAddr(p)
	hi, found := slices.BinarySearchFunc(bounds, last, netip.Addr.Compare)
	if found {
		hi++
	}
	return lo, hi
}

// appendRange appends the fewest prefixes covering exactly [from, to].
func appendRange(out []netip.Prefix, from, to netip.Addr) []netip.Prefix {
	for from.IsValid() && from.Compare(to) <= 0 {
		bits := from.BitLen()
		var p netip.Prefix
		for n := 0; n <= bits; n++ {
			q := netip.PrefixFrom(from, n)
			if q.Masked().Addr() == from && lastAddr(q).Compare(to) <= 0 {
				p = q
				break
			}
		}
		out = append(out, p)
		next := lastAddr(p).Next()
		if !next.IsValid() || next.BitLen() != bits {
			break
		}
		from = next
	}
	return out
}

// classOf returns the class holding a.
func (p *partition) classOf(a netip.Addr) int {
	a = a.Unmap()
	i, found := slices.BinarySearchFunc(p.starts, a, netip.Addr.Compare)
	if !found {
		i--
	}
	return p.class[i]
}
