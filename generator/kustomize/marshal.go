package kustomize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/policy"
)

// Marshal serialises one policy as a netdep file: the header, then the object
// with apiVersion and kind set, fields in sigs.k8s.io/yaml's stable
// (alphabetical) order, without creationTimestamp or status, ports numeric.
// p is not modified.
//
// The bytes are those of sigs.k8s.io/yaml (typed object -> JSON -> yaml.v2),
// which is what netdep always wrote, but a NetworkPolicy is emitted directly
// (appendPolicy): the round trip through JSON, a generic map and yaml.v2's
// reflection cost about 0.9 ms and 350 allocations a policy, most of
// `netdep generate` at 10,000 services. What the direct emitter does not
// reproduce byte for byte (strings yaml.v2 would fold, escape or write as a
// block, keys over 128 bytes, fields netdep never sets) goes the old way.
func Marshal(p *networkingv1.NetworkPolicy) ([]byte, error) {
	if err := checkNumericPorts(p); err != nil {
		return nil, err
	}
	buf := scratch.Get().(*[]byte)
	defer scratch.Put(buf)
	if b, ok := appendPolicy((*buf)[:0], p); ok {
		*buf = b
		// One allocation of the final size: growing a fresh buffer by
		// doubling allocated twice the tree's bytes, every page of them new.
		return bytes.Clone(b), nil
	}
	return marshalViaJSON(p)
}

// scratch holds buffers Marshal emits into before copying out the result.
var scratch = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// marshalViaJSON is the general path, and the oracle the direct emitter is
// tested against.
func marshalViaJSON(p *networkingv1.NetworkPolicy) ([]byte, error) {
	q := p.DeepCopy()
	q.APIVersion = networkingv1.SchemeGroupVersion.String()
	q.Kind = "NetworkPolicy"
	b, err := marshalObject(q)
	if err != nil {
		return nil, fmt.Errorf("policy %s/%s: %w", p.Namespace, p.Name, err)
	}
	return b, nil
}

// MarshalCluster renders a ClusterNetworkPolicy as one YAML document with
// the header, the way the general path renders a NetworkPolicy.
func MarshalCluster(p *v1beta1.ClusterNetworkPolicy) ([]byte, error) {
	q := p.DeepCopy()
	q.APIVersion = v1beta1.GroupVersion.String()
	q.Kind = "ClusterNetworkPolicy"
	b, err := marshalObject(q)
	if err != nil {
		return nil, fmt.Errorf("clusternetworkpolicy %s: %w", p.Name, err)
	}
	return b, nil
}

// marshalV1Alpha1 writes p as its v1alpha1 equivalent (policy.ToV1Alpha1
// of p alone): an AdminNetworkPolicy of the same name for the Admin tier,
// the BaselineAdminNetworkPolicy "default" for the Baseline tier (the
// generator makes one Baseline policy in v1alpha1 mode). It returns the
// file name, the object's name.
func marshalV1Alpha1(p *v1beta1.ClusterNetworkPolicy) (string, []byte, error) {
	anps, banp, err := policy.ToV1Alpha1([]*v1beta1.ClusterNetworkPolicy{p})
	if err != nil {
		return "", nil, fmt.Errorf("clusternetworkpolicy %s: no exact v1alpha1 equivalent (guardrails.api: v1alpha1): %w", p.Name, err)
	}
	var obj any
	var name string
	switch {
	case len(anps) == 1:
		obj, name = anps[0], anps[0].Name
	case banp != nil:
		obj, name = banp, banp.Name
	default:
		return "", nil, fmt.Errorf("clusternetworkpolicy %s: has no rule, so no v1alpha1 equivalent to write", p.Name)
	}
	b, err := marshalObject(obj)
	if err != nil {
		return "", nil, fmt.Errorf("clusternetworkpolicy %s: %w", p.Name, err)
	}
	return name + ".yaml", b, nil
}

// marshalObject is an API object as YAML without server-populated fields.
func marshalObject(q any) ([]byte, error) {
	raw, err := json.Marshal(q)
	if err != nil {
		return nil, err
	}
	// Strip server-populated fields through a generic map: the typed
	// struct's omitempty rules have changed across k8s.io/api releases
	// (creationTimestamp used to print as null), and the output must not
	// depend on them.
	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep integers exact, not float64
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	delete(obj, "status")
	if md, ok := obj["metadata"].(map[string]any); ok {
		for _, k := range []string{"creationTimestamp", "resourceVersion", "uid", "generation", "managedFields", "selfLink"} {
			delete(md, k)
		}
	}
	raw, err = json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	// JSONToYAML keeps integers integers (it decodes with a YAML decoder),
	// so ports stay 8080, not 8080.0 or "8080".
	y, err := yaml.JSONToYAML(raw)
	if err != nil {
		return nil, err
	}
	return append([]byte(Header), y...), nil
}

// emitter writes block YAML the way go.yaml.in/yaml/v2 (behind
// sigs.k8s.io/yaml) does: two-space indentation, sequences in a mapping not
// indented, the first key of a mapping in a sequence on the dash's line,
// empty collections as {} and [], keys in yaml.v2's order. ok turns false
// at the first thing it cannot write exactly as yaml.v2 would.
type emitter struct {
	b      []byte
	inline bool // just wrote "- ": the next key or scalar goes on this line
	ok     bool
}

// appendPolicy appends p as Marshal writes it, or reports false when the
// policy holds something the direct emitter leaves to marshalViaJSON.
func appendPolicy(b []byte, p *networkingv1.NetworkPolicy) ([]byte, bool) {
	if !plainMeta(&p.ObjectMeta) {
		return nil, false
	}
	e := emitter{b: b, ok: true}
	e.b = append(e.b, Header...)
	e.b = append(e.b, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"...)

	m := &p.ObjectMeta
	e.key(0, "metadata")
	if len(m.Annotations) == 0 && len(m.Labels) == 0 && m.Name == "" && m.Namespace == "" {
		e.b = append(e.b, " {}\n"...)
	} else {
		e.b = append(e.b, '\n')
		if len(m.Annotations) > 0 {
			e.key(2, "annotations")
			e.stringMap(4, m.Annotations)
		}
		if len(m.Labels) > 0 {
			e.key(2, "labels")
			e.stringMap(4, m.Labels)
		}
		if m.Name != "" {
			e.key(2, "name")
			e.value(m.Name)
		}
		if m.Namespace != "" {
			e.key(2, "namespace")
			e.value(m.Namespace)
		}
	}

	s := &p.Spec
	e.key(0, "spec")
	e.b = append(e.b, '\n')
	if len(s.Egress) > 0 {
		e.key(2, "egress")
		e.b = append(e.b, '\n')
		for i := range s.Egress {
			r := &s.Egress[i]
			e.item(2)
			if len(r.Ports) == 0 && len(r.To) == 0 {
				e.empty()
				continue
			}
			e.ports(4, r.Ports)
			e.peers(4, "to", r.To)
		}
	}
	if len(s.Ingress) > 0 {
		e.key(2, "ingress")
		e.b = append(e.b, '\n')
		for i := range s.Ingress {
			r := &s.Ingress[i]
			e.item(2)
			if len(r.Ports) == 0 && len(r.From) == 0 {
				e.empty()
				continue
			}
			e.peers(4, "from", r.From)
			e.ports(4, r.Ports)
		}
	}
	e.key(2, "podSelector")
	e.selector(4, &s.PodSelector)
	if len(s.PolicyTypes) > 0 {
		e.key(2, "policyTypes")
		e.b = append(e.b, '\n')
		for _, t := range s.PolicyTypes {
			e.itemScalar(2, string(t))
		}
	}
	if !e.ok {
		return nil, false
	}
	return e.b, true
}

// plainMeta reports whether m has only the fields netdep sets (and those
// Marshal drops): anything else goes the general way.
func plainMeta(m *metav1.ObjectMeta) bool {
	return m.GenerateName == "" && m.DeletionTimestamp == nil && m.DeletionGracePeriodSeconds == nil &&
		len(m.OwnerReferences) == 0 && len(m.Finalizers) == 0
}

// key starts a mapping entry at indent (or on the dash's line) and writes
// "k:".
func (e *emitter) key(indent int, k string) {
	e.indent(indent)
	// yaml.v2 writes a key over 128 bytes as a complex key ("? k").
	if len(k) > 128 {
		e.ok = false
	}
	e.scalar(k, true)
	e.b = append(e.b, ':')
}

// item starts a sequence entry at indent.
func (e *emitter) item(indent int) {
	e.indent(indent)
	e.b = append(e.b, "- "...)
	e.inline = true
}

// itemScalar writes a sequence entry that is a string.
func (e *emitter) itemScalar(indent int, s string) {
	e.indent(indent)
	e.b = append(e.b, "- "...)
	e.scalar(s, false)
	e.b = append(e.b, '\n')
}

func (e *emitter) indent(n int) {
	if e.inline {
		e.inline = false
		return
	}
	for range n {
		e.b = append(e.b, ' ')
	}
}

// empty writes an empty mapping as a sequence entry.
func (e *emitter) empty() {
	e.inline = false
	e.b = append(e.b, "{}\n"...)
}

// value writes a scalar mapping value and ends the line.
func (e *emitter) value(s string) {
	e.b = append(e.b, ' ')
	e.scalar(s, false)
	e.b = append(e.b, '\n')
}

// stringMap writes a map[string]string as a mapping value whose entries
// go at indent.
func (e *emitter) stringMap(indent int, m map[string]string) {
	if len(m) == 0 {
		e.b = append(e.b, " {}\n"...)
		return
	}
	e.b = append(e.b, '\n')
	var arr [8]string
	keys := arr[:0]
	for k := range m {
		keys = append(keys, k)
	}
	sortKeys(keys)
	for _, k := range keys {
		e.key(indent, k)
		e.value(m[k])
	}
}

// selector writes a LabelSelector as a mapping value whose entries go at
// indent.
func (e *emitter) selector(indent int, s *metav1.LabelSelector) {
	if len(s.MatchExpressions) > 0 {
		e.ok = false // netdep never writes them
		return
	}
	if len(s.MatchLabels) == 0 {
		e.b = append(e.b, " {}\n"...)
		return
	}
	e.b = append(e.b, '\n')
	e.key(indent, "matchLabels")
	e.stringMap(indent+2, s.MatchLabels)
}

// peers writes the from/to list of a rule, if any.
func (e *emitter) peers(indent int, field string, ps []networkingv1.NetworkPolicyPeer) {
	if len(ps) == 0 {
		return
	}
	e.key(indent, field)
	e.b = append(e.b, '\n')
	for i := range ps {
		p := &ps[i]
		e.item(indent)
		if p.IPBlock == nil && p.NamespaceSelector == nil && p.PodSelector == nil {
			e.empty()
			continue
		}
		if p.IPBlock != nil {
			e.key(indent+2, "ipBlock")
			e.b = append(e.b, '\n')
			e.key(indent+4, "cidr")
			e.value(p.IPBlock.CIDR)
			if len(p.IPBlock.Except) > 0 {
				e.key(indent+4, "except")
				e.b = append(e.b, '\n')
				for _, x := range p.IPBlock.Except {
					e.itemScalar(indent+4, x)
				}
			}
		}
		if p.NamespaceSelector != nil {
			e.key(indent+2, "namespaceSelector")
			e.selector(indent+4, p.NamespaceSelector)
		}
		if p.PodSelector != nil {
			e.key(indent+2, "podSelector")
			e.selector(indent+4, p.PodSelector)
		}
	}
}

// ports writes the ports list of a rule, if any.
func (e *emitter) ports(indent int, ps []networkingv1.NetworkPolicyPort) {
	if len(ps) == 0 {
		return
	}
	e.key(indent, "ports")
	e.b = append(e.b, '\n')
	for i := range ps {
		p := &ps[i]
		e.item(indent)
		if p.EndPort == nil && p.Port == nil && p.Protocol == nil {
			e.empty()
			continue
		}
		if p.EndPort != nil {
			e.key(indent+2, "endPort")
			e.b = append(e.b, ' ')
			e.b = strconv.AppendInt(e.b, int64(*p.EndPort), 10)
			e.b = append(e.b, '\n')
		}
		if p.Port != nil {
			e.key(indent+2, "port")
			switch p.Port.Type {
			case intstr.Int:
				e.b = append(e.b, ' ')
				e.b = strconv.AppendInt(e.b, int64(p.Port.IntVal), 10)
				e.b = append(e.b, '\n')
			case intstr.String:
				e.value(p.Port.StrVal)
			default:
				e.ok = false
			}
		}
		if p.Protocol != nil {
			e.key(indent+2, "protocol")
			e.value(string(*p.Protocol))
		}
	}
}

// Scalar styles yaml.v2 picks for a string.
const (
	stylePlain = iota
	styleSingle
	styleDouble
	styleOther // folded, escaped, block or binary: left to yaml.v2
)

// scalar writes s in the style yaml.v2 would, as a mapping key or not.
func (e *emitter) scalar(s string, isKey bool) {
	style := scalarStyle(s)
	if style == styleOther {
		e.ok = false
		return
	}
	start := len(e.b)
	switch style {
	case stylePlain:
		e.b = append(e.b, s...)
	case styleSingle:
		e.b = append(e.b, '\'')
		for i := 0; i < len(s); i++ {
			if s[i] == '\'' {
				e.b = append(e.b, '\'')
			}
			e.b = append(e.b, s[i])
		}
		e.b = append(e.b, '\'')
	case styleDouble:
		e.b = append(e.b, '"')
		for i := 0; i < len(s); i++ {
			if s[i] == '"' || s[i] == '\\' {
				e.b = append(e.b, '\\')
			}
			e.b = append(e.b, s[i])
		}
		e.b = append(e.b, '"')
	}
	// yaml.v2 breaks a value (never a key) at a space once the line is
	// past 80 columns. Columns count characters; bytes are at least as
	// many, so a line within 80 bytes certainly was not folded.
	if !isKey && strings.IndexByte(s, ' ') >= 0 {
		col := len(e.b) - (bytes.LastIndexByte(e.b[:start], '\n') + 1)
		if col > 80 {
			e.ok = false
		}
	}
}

// scalarStyle is go.yaml.in/yaml/v2's choice of style for a string in a
// block mapping or sequence (encoder.stringv, yaml_emitter_analyze_scalar
// and yaml_emitter_select_scalar_style), for the strings this emitter
// handles: valid UTF-8, printable, on one line. Everything else is
// styleOther.
func scalarStyle(s string) int {
	if isName(s) {
		// Names, label keys and values, paths: no indicator, no space,
		// nothing that reads as a number; only yes/no/true/null-like
		// words need quotes.
		if resolvesToString(s) {
			return stylePlain
		}
		return styleDouble
	}
	if !utf8.ValidString(s) {
		return styleOther
	}
	// encoder.stringv: a string that would read back as something else
	// (null, bool, number, timestamp, base-60 float) is double-quoted.
	if !resolvesToString(s) || isBase60Float(s) {
		if !analyze(s).printable {
			return styleOther
		}
		return styleDouble
	}
	a := analyze(s)
	switch {
	case !a.printable:
		return styleOther
	case a.blockPlainAllowed:
		return stylePlain
	default:
		return styleSingle
	}
}

// isName reports whether s is a letter followed by letters, digits and
// ".-_/": the common case, which yaml.v2 writes plain unless it is one of
// its boolean or null words.
func isName(s string) bool {
	if s == "" || !isLetter(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !('0' <= c && c <= '9') && c != '.' && c != '-' && c != '_' && c != '/' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

type analysis struct {
	// printable: every character printable, no line break, no tab; the
	// only strings the emitter writes.
	printable         bool
	blockPlainAllowed bool
}

// analyze is yaml_emitter_analyze_scalar restricted to printable one-line
// strings (with unicode output on, as yaml.v2's encoder sets it). s is
// valid UTF-8.
func analyze(s string) analysis {
	if len(s) == 0 {
		return analysis{printable: true, blockPlainAllowed: true}
	}
	blockIndicators := strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...")
	leadingSpace, trailingSpace := false, false
	precededByWhitespace := true
	for i, w := 0, 0; i < len(s); i += w {
		c := s[i]
		w = yamlWidth(c)
		if !isPrintable(s, i) || isBreak(s, i) {
			return analysis{}
		}
		followedByWhitespace := i+w >= len(s) || s[i+w] == ' ' || s[i+w] == '\t'
		if i == 0 {
			switch c {
			case '#', ',', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
				blockIndicators = true
			case '?', ':', '-':
				if followedByWhitespace {
					blockIndicators = true
				}
			}
		} else {
			switch c {
			case ':':
				if followedByWhitespace {
					blockIndicators = true
				}
			case '#':
				if precededByWhitespace {
					blockIndicators = true
				}
			}
		}
		if c == ' ' {
			if i == 0 {
				leadingSpace = true
			}
			if i+w == len(s) {
				trailingSpace = true
			}
		}
		// Printable and not a break, so blank only if a space.
		precededByWhitespace = c == ' '
	}
	return analysis{printable: true, blockPlainAllowed: !leadingSpace && !trailingSpace && !blockIndicators}
}

// isPrintable, isBreak and yamlWidth are yaml.v2's is_printable, is_break
// and width; s is valid UTF-8, so a lead byte has its continuation bytes.
func isPrintable(s string, i int) bool {
	b := s[i]
	switch {
	case b == 0x0A, b >= 0x20 && b <= 0x7E:
		return true
	case b == 0xC2:
		return s[i+1] >= 0xA0
	case b > 0xC2 && b < 0xED:
		return true
	case b == 0xED:
		return s[i+1] < 0xA0
	case b == 0xEE:
		return true
	case b == 0xEF:
		return !(s[i+1] == 0xBB && s[i+2] == 0xBF) && !(s[i+1] == 0xBF && (s[i+2] == 0xBE || s[i+2] == 0xBF))
	}
	return false
}

func isBreak(s string, i int) bool {
	b := s[i]
	return b == '\r' || b == '\n' ||
		b == 0xC2 && s[i+1] == 0x85 ||
		b == 0xE2 && s[i+1] == 0x80 && (s[i+2] == 0xA8 || s[i+2] == 0xA9)
}

func yamlWidth(b byte) int {
	switch {
	case b&0x80 == 0x00:
		return 1
	case b&0xE0 == 0xC0:
		return 2
	case b&0xF0 == 0xE0:
		return 3
	case b&0xF8 == 0xF0:
		return 4
	}
	return 1 // not reached for valid UTF-8
}

// resolvesToString is yaml.v2's resolve("", s) == !!str: whether s, written
// plain, reads back as the same string. Like yaml.v2 it looks only at
// strings whose first byte hints at something else.
func resolvesToString(s string) bool {
	if s == "" {
		return false // null
	}
	c := s[0]
	switch {
	case c == '+' || c == '-' || c == '.' || c >= '0' && c <= '9' || strings.IndexByte("yYnNtTfFoO~", c) >= 0:
	default:
		return true
	}
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON",
		"n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF",
		"~", "null", "Null", "NULL",
		".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return false
	}
	switch {
	case c == '.':
		_, err := strconv.ParseFloat(s, 64)
		return err != nil
	case c == '+' || c == '-' || c >= '0' && c <= '9':
		if isTimestamp(s) {
			return false
		}
		plain := strings.ReplaceAll(s, "_", "")
		if _, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return false
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return false
		}
		if yamlStyleFloat.MatchString(plain) {
			if _, err := strconv.ParseFloat(plain, 64); err == nil {
				return false
			}
		}
		if strings.HasPrefix(plain, "0b") {
			if _, err := strconv.ParseInt(plain[2:], 2, 64); err == nil {
				return false
			}
			if _, err := strconv.ParseUint(plain[2:], 2, 64); err == nil {
				return false
			}
		} else if strings.HasPrefix(plain, "-0b") {
			if _, err := strconv.ParseInt("-"+plain[3:], 2, 64); err == nil {
				return false
			}
		}
	}
	return true
}

var (
	yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)
	base60Float    = regexp.MustCompile(`^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`)
)

// isTimestamp is yaml.v2's parseTimestamp succeeding.
func isTimestamp(s string) bool {
	i := 0
	for ; i < len(s); i++ {
		if c := s[i]; c < '0' || c > '9' {
			break
		}
	}
	if i != 4 || i == len(s) || s[i] != '-' {
		return false
	}
	for _, format := range []string{
		"2006-1-2T15:4:5.999999999Z07:00",
		"2006-1-2t15:4:5.999999999Z07:00",
		"2006-1-2 15:4:5.999999999",
		"2006-1-2",
	} {
		if _, err := time.Parse(format, s); err == nil {
			return true
		}
	}
	return false
}

// isBase60Float is yaml.v2's: such strings are quoted for YAML 1.1 parsers.
func isBase60Float(s string) bool {
	if s == "" {
		return false
	}
	c := s[0]
	if !(c == '+' || c == '-' || c >= '0' && c <= '9') || strings.IndexByte(s, ':') < 0 {
		return false
	}
	return base60Float.MatchString(s)
}

// sortKeys orders mapping keys as yaml.v2 does (its keyList.Less): runs of
// digits compare as numbers, non-letters before letters.
func sortKeys(keys []string) {
	if len(keys) < 2 {
		return
	}
	type key struct {
		s string
		r []rune
	}
	ks := make([]key, len(keys))
	for i, k := range keys {
		ks[i] = key{k, []rune(k)}
	}
	// Byte order first, so keys that yaml.v2 ranks equal (it sorts them
	// unstably) still come out the same every time.
	slices.SortFunc(ks, func(a, b key) int { return strings.Compare(a.s, b.s) })
	slices.SortStableFunc(ks, func(a, b key) int {
		switch {
		case keyLess(a.r, b.r):
			return -1
		case keyLess(b.r, a.r):
			return 1
		}
		return 0
	})
	for i := range ks {
		keys[i] = ks[i].s
	}
}

// keyLess is yaml.v2's keyList.Less for two strings, verbatim.
func keyLess(ar, br []rune) bool {
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al := unicode.IsLetter(ar[i])
		bl := unicode.IsLetter(br[i])
		if al && bl {
			return ar[i] < br[i]
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an = 1
					bn = 1
					break
				}
			}
		}
		for ai = i; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for bi = i; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}
