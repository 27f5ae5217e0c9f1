package eval

import (
	"bytes"
	"strconv"
	"sync"

	"gopkg.in/yaml.v3"
)

// parseSimple is a reader of the plain block YAML that netdep, kustomize
// and kubectl write (block mappings and sequences, plain, single- and
// double-quoted scalars without escapes, {} and [], comment lines, ---
// between documents): the node trees yaml.v3 would give, with the same
// kinds, tags, styles, values, lines and columns, in a fraction of the
// time and garbage. A generated tree of 10,000 services is 40,000 such
// files, and yaml.v3's parser was half of verify's time.
//
// It reports false as soon as the input holds anything else (tabs,
// carriage returns, non-ASCII bytes, anchors, tags, block scalars, flow
// collections with content, escapes, a comment after a value, a key with
// no value, continuation lines, ...): ParseDocuments then reads the
// stream with yaml.v3, which also names the syntax errors. So it never has
// to be right about YAML it does not know; FuzzParseSimple holds it to
// yaml.v3's answer on everything it accepts.
func parseSimple(data []byte) (Documents, bool) {
	var ds Documents
	for _, c := range data {
		if c < ' ' && c != '\n' || c >= 0x7f {
			return ds, false
		}
	}
	var lines []sline
	started := false // a document has begun (content, or a ---)
	flush := func() bool {
		if !started && len(lines) == 0 {
			return true
		}
		if len(lines) == 0 {
			ds.Roots = append(ds.Roots, nil)
			return true
		}
		p := &simpleParser{lines: lines}
		root, ok := p.node(0)
		if !ok || p.i != len(lines) {
			return false
		}
		ds.Roots = append(ds.Roots, root)
		return true
	}
	num := 0
	for len(data) > 0 {
		num++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		text := line[indent:]
		switch {
		case len(text) == 0 || text[0] == '#':
			continue // blank or comment line
		case indent == 0 && string(text) == "---":
			if !flush() {
				return ds, false
			}
			lines, started = nil, true
			continue
		case indent == 0 && (text[0] == '%' || bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("..."))):
			return ds, false // directives, document markers with content
		case text[len(text)-1] == ' ':
			return ds, false // trailing spaces
		}
		lines = append(lines, sline{indent: indent, text: string(text), num: num})
	}
	if !flush() {
		return ds, false
	}
	return ds, true
}

// sline is one line with content: its indentation, the rest, its number.
type sline struct {
	indent int
	text   string
	num    int
}

type simpleParser struct {
	lines []sline
	i     int
}

func isItem(text string) bool {
	return text == "-" || len(text) >= 2 && text[0] == '-' && text[1] == ' '
}

// node reads the block collection that starts at the current line, whose
// indentation must be at least min.
func (p *simpleParser) node(min int) (*yaml.Node, bool) {
	if p.i >= len(p.lines) || p.lines[p.i].indent < min {
		return nil, false
	}
	if isItem(p.lines[p.i].text) {
		return p.sequence(p.lines[p.i].indent)
	}
	return p.mapping(p.lines[p.i].indent)
}

func (p *simpleParser) sequence(indent int) (*yaml.Node, bool) {
	l := p.lines[p.i]
	seq := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Line: l.num, Column: indent + 1}
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent {
			break
		}
		if l.indent == indent && !isItem(l.text) {
			break // the next key of the mapping this is the value of
		}
		if l.indent > indent || l.text == "-" {
			return nil, false
		}
		rest := l.text[2:]
		col := indent + 2
		for len(rest) > 0 && rest[0] == ' ' {
			rest, col = rest[1:], col+1
		}
		if isItem(rest) || keyEnd(rest) >= 0 {
			// "- key: value" or "- - x": a collection whose first line
			// is the rest of this one, indented where the rest starts.
			p.lines[p.i] = sline{indent: col, text: rest, num: l.num}
			item, ok := p.node(col)
			if !ok {
				return nil, false
			}
			seq.Content = append(seq.Content, item)
			continue
		}
		item, ok := inlineValue(rest, l.num, col+1)
		if !ok {
			return nil, false
		}
		seq.Content = append(seq.Content, item)
		p.i++
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return nil, false // a continuation line
		}
	}
	return seq, true
}

func (p *simpleParser) mapping(indent int) (*yaml.Node, bool) {
	l := p.lines[p.i]
	m := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: l.num, Column: indent + 1}
	for p.i < len(p.lines) {
		l := p.lines[p.i]
		if l.indent < indent {
			break
		}
		if l.indent > indent || isItem(l.text) {
			return nil, false
		}
		end := keyEnd(l.text)
		if end < 0 {
			return nil, false
		}
		key, ok := plainScalar(l.text[:end], l.num, indent+1)
		if !ok {
			return nil, false
		}
		rest := l.text[end+1:]
		p.i++
		if rest == "" {
			// The value is the block on the next lines: deeper, or a
			// sequence at the key's own indentation.
			if p.i >= len(p.lines) {
				return nil, false // a key with no value (null)
			}
			next := p.lines[p.i]
			var v *yaml.Node
			switch {
			case next.indent > indent:
				v, ok = p.node(next.indent)
			case next.indent == indent && isItem(next.text):
				v, ok = p.sequence(indent)
			default:
				return nil, false // null
			}
			if !ok {
				return nil, false
			}
			m.Content = append(m.Content, key, v)
			continue
		}
		col := indent + end + 2
		for len(rest) > 0 && rest[0] == ' ' {
			rest, col = rest[1:], col+1
		}
		v, ok := inlineValue(rest, l.num, col)
		if !ok {
			return nil, false
		}
		m.Content = append(m.Content, key, v)
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return nil, false // a continuation line
		}
	}
	return m, true
}

// keyEnd is the index of the colon that ends a plain key at the start of
// text ("key: value" or "key:"), or -1.
func keyEnd(text string) int {
	for i := 0; i < len(text); i++ {
		c := text[i]
		if c == ':' && (i+1 == len(text) || text[i+1] == ' ') {
			if i == 0 {
				return -1
			}
			return i
		}
		if !plainByte(c) {
			return -1
		}
	}
	return -1
}

// plainByte is a byte a plain scalar here may hold: letters, digits and
// punctuation that means nothing inside a plain scalar.
func plainByte(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '.', '_', '/', '-', ':', '@', '+', '=', '(', ')', '$', '^', '~', ';', ',', ' ':
		return true
	}
	return false
}

// inlineValue is the scalar, {} or [] after "key: " or "- ", at line and
// column.
func inlineValue(s string, line, col int) (*yaml.Node, bool) {
	switch {
	case s == "{}":
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle, Line: line, Column: col}, true
	case s == "[]":
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle, Line: line, Column: col}, true
	case len(s) >= 2 && (s[0] == '"' || s[0] == '\''):
		q := s[0]
		inner := s[1 : len(s)-1]
		if s[len(s)-1] != q {
			return nil, false
		}
		for i := 0; i < len(inner); i++ {
			if c := inner[i]; c == q || c == '\\' || c < ' ' {
				return nil, false
			}
		}
		style := yaml.DoubleQuotedStyle
		if q == '\'' {
			style = yaml.SingleQuotedStyle
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: style, Value: inner, Line: line, Column: col}, true
	}
	return plainScalar(s, line, col)
}

// plainScalar is s as a plain scalar, tagged as yaml.v3 resolves it.
func plainScalar(s string, line, col int) (*yaml.Node, bool) {
	if s == "" || s[len(s)-1] == ':' {
		return nil, false
	}
	if c := s[0]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/' || c == '_' || c == '~' ||
		(c == ':' || c == '-') && len(s) > 1 && s[1] != ' ') {
		return nil, false // an indicator, a sign, a quote: yaml.v3 reads the stream
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !plainByte(c) || c == ':' && i+1 < len(s) && s[i+1] == ' ' || c == ' ' && i+1 < len(s) && s[i+1] == '#' {
			return nil, false
		}
	}
	tag, ok := resolvePlain(s)
	if !ok {
		return nil, false
	}
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: s, Line: line, Column: col}, true
}

// resolvedTags caches yaml.v3's tag for the plain scalars that are not
// plainly strings or decimal integers.
var resolvedTags sync.Map // string -> string

// resolvePlain is the tag yaml.v3 gives plain scalar s: a name that starts
// with a letter and is none of YAML's words (true, null, ...) is a string,
// a decimal number that fits an int is an int, and anything else is asked
// of yaml.v3 itself, once per value.
func resolvePlain(s string) (string, bool) {
	if c := s[0]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
		if plainString(s) {
			return "!!str", true
		}
	} else if c >= '1' && c <= '9' || s == "0" {
		digits := true
		for i := 1; i < len(s); i++ {
			if s[i] < '0' || s[i] > '9' {
				digits = false
				break
			}
		}
		if digits {
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				return "!!int", true
			}
		}
	}
	if t, ok := resolvedTags.Load(s); ok {
		return t.(string), true
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(s), &n); err != nil || len(n.Content) != 1 || n.Content[0].Kind != yaml.ScalarNode || n.Content[0].Value != s {
		return "", false
	}
	resolvedTags.Store(s, n.Content[0].Tag)
	return n.Content[0].Tag, true
}

// plainString is whether a letter-initial plain scalar is a string to
// yaml.v3 without asking it: six or more letters, digits, dots, slashes
// and dashes (its booleans and nulls are five letters or fewer).
func plainString(s string) bool {
	if len(s) <= 5 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '/' || c == '-') {
			return false
		}
	}
	return true
}
