package schema

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// aliasAllowance is how many node visits aliases may add to a file on top of
// the nodes written in it (shared by its documents, or 1000 documents would
// get 1000 allowances). yaml.v3 keeps aliases as pointers in the node
// tree, so nothing is expanded until the decoder walks it; counting visits is
// what stops a "billion laughs" file (nine aliases of nine aliases ...) from
// turning a few hundred bytes into billions of visits.
const aliasAllowance = 100_000

// decoder walks the yaml.v3 node tree of one document. Every accessor reports
// its own type errors with the node's position, so callers only handle the
// values they got back.
type decoder struct {
	file  string
	probs *Problems
	// visits counts nodes resolved; budget is where decoding stops;
	// written is the document's own node count.
	visits, budget, written int
	// aborted is set once the alias budget is exhausted: every accessor then
	// returns nothing, so the document yields no further problems.
	aborted bool
	// merging guards against a merge key that (through aliases) merges the
	// mapping that contains it.
	merging map[*yaml.Node]bool
	// broken are the fields whose values brokenf reported.
	broken []string
	// last is the node resolve returned last.
	last *yaml.Node
}

func newDecoder(file string, probs *Problems, doc *yaml.Node, allowance int) *decoder {
	written := countNodes(doc)
	return &decoder{
		file:    file,
		probs:   probs,
		budget:  written + allowance,
		written: written,
		merging: map[*yaml.Node]bool{},
	}
}

// aliasVisits is how much of the allowance the document used.
func (d *decoder) aliasVisits() int {
	return max(0, d.visits-d.written)
}

// countNodes counts the nodes written in a document, without following
// aliases (each alias counts as one).
func countNodes(n *yaml.Node) int {
	if n == nil {
		return 0
	}
	c := 1
	if n.Kind != yaml.AliasNode {
		for _, ch := range n.Content {
			c += countNodes(ch)
		}
	}
	return c
}

func (d *decoder) pos(n *yaml.Node) Pos {
	return Pos{File: d.file, Line: n.Line, Column: n.Column}
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	*d.probs = append(*d.probs, errorf(d.pos(n), field, format, args...))
}

// brokenf reports a value that cannot be read as what field needs (a
// scalar where a list belongs, a list where a port belongs). The field is
// remembered: whatever validation would say about it afterwards (the list
// is empty, the set has no cidrs) is the same mistake again, and Parse
// drops it (see cascade).
func (d *decoder) brokenf(n *yaml.Node, field, format string, args ...any) {
	d.errorf(n, field, format, args...)
	if field != "" {
		d.broken = append(d.broken, field)
	}
}

// resolve follows aliases and charges the visit against the alias budget. It
// returns nil once the budget is spent.
func (d *decoder) resolve(n *yaml.Node) *yaml.Node {
	if d.aborted || n == nil {
		return nil
	}
	if n == d.last {
		// An accessor handing the node it resolved to another one
		// (mapping after resolve): one visit, not two. Charging it
		// twice made a large file without a single alias "expand by
		// more than 100000 values".
		return n
	}
	for hops := 0; n.Kind == yaml.AliasNode; hops++ {
		if n.Alias == nil || hops > 100 {
			d.errorf(n, "", "alias *%s does not resolve to a value", short(n.Value))
			d.aborted = true
			return nil
		}
		n = n.Alias
	}
	d.visits++
	if d.visits > d.budget {
		d.errorf(n, "", "yaml aliases expand this file by more than %d values (a \"billion laughs\" document?); write the values out instead of nesting aliases", aliasAllowance)
		d.aborted = true
		return nil
	}
	d.last = n
	return n
}

// describe names a node's kind for "expected X, found Y" messages, in the
// user's terms rather than YAML's.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "nothing"
		case "!!bool":
			return fmt.Sprintf("a boolean (%s)", n.Value)
		case "!!int", "!!float":
			return fmt.Sprintf("a number (%s)", short(n.Value))
		case "!!str":
			return fmt.Sprintf("a string (%q)", short(n.Value))
		default:
			return fmt.Sprintf("a %s value", strings.TrimPrefix(n.Tag, "!!"))
		}
	case yaml.DocumentNode:
		return "a document"
	}
	return "an unknown value"
}

func short(s string) string {
	if len(s) > 40 && utf8.RuneCountInString(s) > 40 {
		return firstRunes(s, 37) + "..."
	}
	return s
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null"
}

// pair is one key of a mapping with its value node (aliases resolved).
type pair struct {
	Key  string
	K, V *yaml.Node
}

// mapping returns a mapping's pairs in file order, reporting a value that is
// not a mapping, keys that are not scalars, duplicate keys and (when known is
// not nil) keys outside known. Merge keys (<<) are expanded as YAML 1.1
// defines them: explicit keys win over merged ones. ok is false when n is not
// a mapping at all.
func (d *decoder) mapping(n *yaml.Node, field, what string, known []string) (pairs []pair, ok bool) {
	n = d.resolve(n)
	if n == nil {
		return nil, false
	}
	if n.Kind != yaml.MappingNode {
		d.brokenf(n, field, "expected %s, found %s", what, describe(n))
		return nil, false
	}
	seen := map[string]*yaml.Node{}
	var merges []*yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		kn := d.resolve(n.Content[i])
		if kn == nil {
			return pairs, true
		}
		if kn.Kind == yaml.ScalarNode && kn.Tag == "!!merge" {
			merges = append(merges, n.Content[i+1])
			continue
		}
		if kn.Kind != yaml.ScalarNode || isNull(kn) {
			d.errorf(kn, field, "expected a key name, found %s", describe(kn))
			continue
		}
		if first, dup := seen[kn.Value]; dup {
			d.errorf(kn, field, "duplicate key %q (first at line %d, column %d); expected each key once per mapping", kn.Value, first.Line, first.Column)
			continue
		}
		seen[kn.Value] = kn
		if known != nil && !contains(known, kn.Value) {
			d.errorf(kn, field, "unknown key %q %s", kn.Value, hintOrList(kn.Value, known))
			continue
		}
		pairs = append(pairs, pair{Key: kn.Value, K: kn, V: n.Content[i+1]})
	}
	if len(merges) > 0 {
		if d.merging[n] {
			d.errorf(n, field, "merge key (<<) merges the mapping that contains it")
			return pairs, true
		}
		d.merging[n] = true
		defer delete(d.merging, n)
		for _, m := range merges {
			mn := d.resolve(m)
			if mn == nil {
				return pairs, true
			}
			srcs := []*yaml.Node{mn}
			if mn.Kind == yaml.SequenceNode {
				srcs = mn.Content
			}
			for _, src := range srcs {
				more, ok := d.mapping(src, field, "a mapping to merge (<<)", known)
				if !ok {
					continue
				}
				for _, p := range more {
					if _, dup := seen[p.Key]; dup {
						continue
					}
					seen[p.Key] = p.K
					pairs = append(pairs, p)
				}
			}
		}
	}
	return pairs, true
}

// list returns a sequence's items; null counts as an empty list so that a key
// left blank means the same as a key left out.
func (d *decoder) list(n *yaml.Node, field, what string) ([]*yaml.Node, bool) {
	n = d.resolve(n)
	if n == nil {
		return nil, false
	}
	if isNull(n) {
		return nil, true
	}
	if n.Kind != yaml.SequenceNode {
		d.brokenf(n, field, "expected %s, found %s", what, describe(n))
		return nil, false
	}
	return n.Content, true
}

// str returns a string scalar. Numbers are not accepted in place of names:
// quoting them is cheap and keeps "0123" and "123" apart.
func (d *decoder) str(n *yaml.Node, field, what string) (strPos, bool) {
	n = d.resolve(n)
	if n == nil {
		return strPos{}, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		d.brokenf(n, field, "expected %s, found %s", what, describe(n))
		return strPos{}, false
	}
	return strPos{S: n.Value, Pos: d.pos(n)}, true
}

// scalar returns the text of a string or number scalar: port values may be
// written either way (8080 or "53/UDP").
func (d *decoder) scalar(n *yaml.Node, field, what string) (strPos, bool) {
	n = d.resolve(n)
	if n == nil {
		return strPos{}, false
	}
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		d.brokenf(n, field, "expected %s, found %s", what, describe(n))
		return strPos{}, false
	}
	return strPos{S: n.Value, Pos: d.pos(n)}, true
}

func (d *decoder) boolean(n *yaml.Node, field string) (bool, bool) {
	n = d.resolve(n)
	if n == nil {
		return false, false
	}
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		d.brokenf(n, field, "expected true or false, found %s", describe(n))
		return false, false
	}
	return n.Value == "true" || n.Value == "True" || n.Value == "TRUE", true
}

// strPos is a string value with where it was written.
type strPos struct {
	S   string
	Pos Pos
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// hintOrList suggests the closest known word, or lists them all when none is
// close: either way the reader learns what was expected.
func hintOrList(s string, known []string) string {
	if h := closest(s, known); h != "" {
		return fmt.Sprintf("(did you mean %q?)", h)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return "(expected one of " + strings.Join(sorted, ", ") + ")"
}

// hintOrNames is didYouMean, or when nothing is close "; <intro> a, b, c"
// (at most eight names), so the reader learns what was expected.
func hintOrNames(s string, names []string, intro string) string {
	if h := didYouMean(s, names); h != "" {
		return h
	}
	shown := make([]string, 0, min(len(names), 8))
	for _, n := range names[:min(len(names), 8)] {
		shown = append(shown, short(n))
	}
	switch {
	case len(names) == 0:
		return "; " + intro + " no services"
	case len(names) > 8:
		return fmt.Sprintf("; %s %s and %d more", intro, strings.Join(shown, ", "), len(names)-8)
	}
	return "; " + intro + " " + strings.Join(shown, ", ")
}

// didYouMean is " (did you mean "x"?)" or "".
func didYouMean(s string, candidates []string) string {
	if h := closest(s, candidates); h != "" {
		return fmt.Sprintf(" (did you mean %q?)", h)
	}
	return ""
}

// closest returns the candidate nearest to s by edit distance, "" when none is
// near enough to be a plausible typo (at most a third of the word, at most 3).
func closest(s string, candidates []string) string {
	// The same word in other case ("Ingress") is the one meant, however
	// near another candidate is ("egress").
	for _, c := range candidates {
		if c != s && strings.EqualFold(c, s) {
			return c
		}
	}
	best, bestD := "", 0
	limit := len(s) / 3
	if limit < 1 {
		limit = 1
	}
	if limit > 3 {
		limit = 3
	}
	n := utf8.RuneCountInString(s)
	if n > 256 {
		return "" // no name is that long: not a typo
	}
	for _, c := range candidates {
		// Lengths further apart than the limit are further apart than
		// it by edit distance too: skipping them keeps a value of
		// megabytes from costing megabytes squared.
		if c == s || abs(utf8.RuneCountInString(c)-n) > limit {
			continue
		}
		dist := levenshtein(strings.ToLower(s), strings.ToLower(c))
		if dist > limit {
			continue
		}
		if best == "" || dist < bestD || (dist == bestD && c < best) {
			best, bestD = c, dist
		}
	}
	if best != "" || len(s) < 3 {
		return best
	}
	// A cut-short word ("stage" for "staging") is a typo too, when only one
	// candidate starts with it.
	for _, c := range candidates {
		if strings.HasPrefix(strings.ToLower(c), strings.ToLower(s)) {
			if best != "" {
				return ""
			}
			best = c
		}
	}
	return best
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// levenshtein is the optimal-string-alignment distance: edits plus adjacent
// transpositions, the commonest typo ("grcp" for "grpc").
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
