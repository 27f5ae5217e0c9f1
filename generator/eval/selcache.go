package eval

import (
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// A generated organisation repeats its selectors: the namespace selector
// of team-124 is in every policy that lets team-124 in, app: svc-04638 in
// every policy of its callers. Parsing a selector (label syntax checked by
// regular expression, in apimachinery) was a twentieth of verify's time
// at 10,000 services, so the parsed selector is kept per selector, by
// a key that names the selector exactly (selectorKey). labels.Selector
// values are immutable. (Keeping ValidateLabelSelector's verdicts the same
// way was tried: the lookups cost what the validation did.)
var selectors boundedCache

// boundedCache is a sync.Map that stops growing at maxCached entries, so a
// long-running caller of the library over ever new selectors holds a few
// megabytes at most; past that, results are computed each time.
type boundedCache struct {
	sync.Map
	n atomic.Int64
}

const maxCached = 1 << 17

func (c *boundedCache) store(key string, v any) {
	if c.n.Load() >= maxCached {
		return
	}
	if _, loaded := c.LoadOrStore(key, v); !loaded {
		c.n.Add(1)
	}
}

// selectorKey encodes s unambiguously: every string with its length, the
// matchLabels in key order, the expressions in their order (order does
// not change what they select, but the key need not know that).
func selectorKey(s *metav1.LabelSelector) string {
	if s == nil {
		return "nil"
	}
	var b strings.Builder
	str := func(x string) {
		b.WriteString(strconv.Itoa(len(x)))
		b.WriteByte(':')
		b.WriteString(x)
	}
	keys := make([]string, 0, len(s.MatchLabels))
	for k := range s.MatchLabels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b.WriteString("L")
	b.WriteString(strconv.Itoa(len(keys)))
	for _, k := range keys {
		str(k)
		str(s.MatchLabels[k])
	}
	b.WriteString("E")
	b.WriteString(strconv.Itoa(len(s.MatchExpressions)))
	for _, e := range s.MatchExpressions {
		str(e.Key)
		str(string(e.Operator))
		b.WriteString(strconv.Itoa(len(e.Values)))
		b.WriteByte('V')
		for _, v := range e.Values {
			str(v)
		}
		b.WriteByte(';')
	}
	return b.String()
}
