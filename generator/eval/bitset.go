package eval

import (
	"math/bits"
	"slices"
)

// bitset is a fixed-size set of small integers (pod and address classes).
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)>>6) }

func (b bitset) set(i int)      { b[i>>6] |= 1 << (uint(i) & 63) }
func (b bitset) has(i int) bool { return b[i>>6]&(1<<(uint(i)&63)) != 0 }
func (b bitset) clone() bitset  { return append(bitset(nil), b...) }
func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}
func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}
func (b bitset) andNot(o bitset) {
	for i := range b {
		b[i] &^= o[i]
	}
}
func (b bitset) clear() { clear(b) }

// setRange sets [lo, hi).
func (b bitset) setRange(lo, hi int) {
	for i := lo; i < hi; i++ {
		b.set(i)
	}
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls fn for every member, in increasing order.
func (b bitset) each(fn func(i int)) {
	for wi, w := range b {
		for w != 0 {
			t := bits.TrailingZeros64(w)
			fn(wi<<6 + t)
			w &= w - 1
		}
	}
}

func (b bitset) equal(o bitset) bool {
	for i := range b {
		if b[i] != o[i] {
			return false
		}
	}
	return true
}

// hasRange reports whether every member of [lo, hi) is set.
func (b bitset) hasRange(lo, hi int) bool {
	for i := lo; i < hi; i++ {
		if !b.has(i) {
			return false
		}
	}
	return true
}

// members is a set of endpoint classes kept for the evaluator's lifetime
// (a rule's peers, a row's destination group): a sorted list while that is
// smaller than a bitset over every class, the bitset otherwise. Most rules
// name one service's pods and most groups a few destinations, so storing
// them as bitsets grew with rules times classes, quadratically in the size
// of an organisation (issue 17: 6.8 GiB to verify 50,000 services).
type members struct {
	list  []int32
	dense bitset // when not nil, the set; list is unused
}

// compact returns b's members in the smaller form, never retaining b.
func compact(b bitset) members {
	n := b.count()
	if n >= 2*len(b) { // 4 bytes per member against 8 per word
		return members{dense: b.clone()}
	}
	list := make([]int32, 0, n)
	b.each(func(i int) { list = append(list, int32(i)) })
	return members{list: list}
}

func (m members) has(i int) bool {
	if m.dense != nil {
		return m.dense.has(i)
	}
	_, ok := slices.BinarySearch(m.list, int32(i))
	return ok
}

func (m members) count() int {
	if m.dense != nil {
		return m.dense.count()
	}
	return len(m.list)
}

func (m members) empty() bool { return m.count() == 0 }

// each calls fn for every member, in increasing order.
func (m members) each(fn func(i int)) {
	if m.dense != nil {
		m.dense.each(fn)
		return
	}
	for _, i := range m.list {
		fn(int(i))
	}
}

// orInto adds the members to b.
func (m members) orInto(b bitset) {
	if m.dense != nil {
		b.or(m.dense)
		return
	}
	for _, i := range m.list {
		b.set(int(i))
	}
}

// bitset returns the members as a new bitset of n bits.
func (m members) bitset(n int) bitset {
	b := newBitset(n)
	m.orInto(b)
	return b
}
