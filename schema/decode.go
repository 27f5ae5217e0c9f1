package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// The raw model is what a document says, with positions, before references are
// bound. Decoding fills it and reports type and key problems; validation and
// resolution (resolve.go) work on it.

type rawDep struct {
	File      string
	Pos       Pos // the document's top-level mapping
	Namespace strPos

	Managed    *bool
	ManagedPos Pos

	Isolate    []strPos
	IsolateSet bool
	IsolatePos Pos

	Services []*rawService
}

type rawService struct {
	Doc   *rawDep
	Name  string
	Pos   Pos // the key in services:
	Field string

	Selector    map[string]string
	SelectorSet bool
	SelectorPos Pos

	Ports []rawPort
	// PortsBroken: ports: did not decode (reported); which ports the
	// service has is unknown, so references to them are not checked.
	PortsBroken bool
	Calls       []*rawEntry
	From        []*rawEntry

	Envs    []strPos
	EnvsSet bool
	EnvsPos Pos

	Edge bool
}

type rawPort struct {
	Name  string
	Value strPos
	Field string
	// Broken: the value did not decode (reported); the port still counts
	// as declared, as one whose value is invalid does.
	Broken bool
}

type entryKind int

const (
	entryRef entryKind = iota
	entryCIDR
	entryRaw
	// entryHost is a calls entry naming an external service by DNS name
	// (host:); from entries cannot (ingress arrives by address).
	entryHost
)

type rawEntry struct {
	Field string
	Pos   Pos
	Kind  entryKind

	Ref strPos // entryRef

	CIDR   strPos // entryCIDR
	Except []strPos

	Host strPos // entryHost

	Namespace    strPos // entryRaw
	NamespaceSet bool
	Selector     map[string]string
	SelectorSet  bool

	Ports    []strPos
	PortsSet bool
	AnyPort  bool
	PortsPos Pos

	Envs    []strPos
	EnvsSet bool
	EnvsPos Pos

	// OverriddenBy names the guardrail that is meant to deny this edge.
	OverriddenBy strPos

	// Exception, when set, makes the entry a sanctioned exception with an
	// owner and an expiry (exception.go).
	Exception *rawException
}

type rawProject struct {
	File    string
	Pos     Pos
	Cluster rawSettings
	Envs    []rawEnv
	Layout  string
	// WarnDays is exceptions.warnDays, nil when not set.
	WarnDays *int
}

type rawEnv struct {
	Name     string
	Pos      Pos
	Field    string
	Settings rawSettings
}

type rawSettings struct {
	DNS   *rawDNS // nil: not set here
	CIDRs []rawCIDRSet
	// PodCIDRs and ServiceCIDRs are the cluster's own address ranges; nil
	// when not set here (an environment then inherits the cluster's).
	PodCIDRs     *rawRanges
	ServiceCIDRs *rawRanges
	// Guardrails are the cluster guardrails; nil when not set here.
	Guardrails *rawGuardrails
	// Sensitive are the namespaces the security report lists the inbound
	// flows of; nil when not set here (an environment then inherits the
	// cluster's).
	Sensitive *rawNames
	// Plugin, Mode and Log are the enforcement the cluster offers, the
	// rollout mode and log: (each validated while decoding); nil when not
	// set here (an environment then inherits the cluster's).
	Plugin, Mode, Log *rawWord
	// Hosts are the pinned addresses of host names (hosts:); an
	// environment's entry replaces the cluster's entry of the same name.
	Hosts []rawHost
}

// rawWord is a keyword setting (plugin: cilium) with where it was written.
type rawWord struct {
	Field string
	Value strPos
}

// rawHost is one hosts: entry, a host name and its addresses.
type rawHost struct {
	Name  string
	Pos   Pos
	Field string
	CIDRs []strPos
}

// rawNames is a list of names with the field it was written at.
type rawNames struct {
	Field string
	Names []strPos
}

type rawRanges struct {
	Field string
	CIDRs []strPos
}

type rawDNS struct {
	Field string
	Pos   Pos
	Off   bool

	Namespace    strPos
	NamespaceSet bool
	Selector     map[string]string
	SelectorSet  bool

	CIDRs []strPos

	Ports    []strPos
	PortsSet bool
}

type rawCIDRSet struct {
	Name  string
	Pos   Pos
	Field string
	CIDRs []strPos
}

// dnsPortsAdvice is what to write instead of a dns ports value that is not
// a list of numbers: dns has no "any" (DNS is two known ports).
const dnsPortsAdvice = "(dns takes port numbers, such as [53/UDP, 53/TCP]; leave ports out for those two)"

var (
	depKeys      = []string{"netdep", "namespace", "managed", "isolate", "services"}
	projectKeys  = []string{"netdep", "cluster", "environments", "layout", "exceptions"}
	serviceKeys  = []string{"selector", "ports", "calls", "from", "environments", "edge"}
	settingsKeys = []string{"dns", "cidrs", "podCIDRs", "serviceCIDRs", "guardrails", "sensitive", "plugin", "mode", "log", "hosts"}
	dnsKeys      = []string{"namespace", "selector", "cidr", "ports"}
)

// fileDocs holds what one file decoded to.
type fileDocs struct {
	deps     []*rawDep
	projects []*rawProject
	// skip is true for a file found in a directory walk that is not a netdep
	// file: it is ignored, as are its problems.
	skip bool
	// docLines are the first lines of the file's documents; broken the
	// fields whose values did not decode, by document.
	docLines []int
	broken   []brokenField
}

// brokenField is a field of one document whose value was reported as
// unreadable.
type brokenField struct {
	doc   int // index in docLines
	field string
}

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// yamlLine matches the "yaml: line N: " prefix of yaml.v3's syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// decodeFile splits a file into documents and decodes each into the raw model.
func decodeFile(f File, probs *Problems) fileDocs {
	var out fileDocs
	fail := func(p Problem) fileDocs {
		if !f.Explicit && !hasMarkerLine(f.Data) {
			return fileDocs{skip: true}
		}
		*probs = append(*probs, p)
		return out
	}
	if enc := textEncoding(f.Data); enc != nil {
		if !f.Explicit && !hasMarkerLine(enc.decode(f.Data)) {
			return fileDocs{skip: true}
		}
		*probs = append(*probs, enc.problem(f.Path))
		return out
	}
	data := bytes.TrimPrefix(f.Data, utf8BOM)
	if !utf8.Valid(data) {
		return fail(errorf(invalidUTF8Pos(f.Path, data), "", "expected UTF-8 text, found a byte sequence that is not UTF-8; save the file as UTF-8"))
	}
	if off, r := forbiddenRune(data); off >= 0 {
		return fail(forbiddenProblem(f.Path, data, off, r))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	first := true
	allowance := aliasAllowance
	for docs := 0; ; docs++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(yamlError(f.Path, data, err))
		}
		if docs == MaxDocuments {
			return fail(errorf(Pos{File: f.Path, Line: doc.Line, Column: doc.Column}, "", "expected at most %d yaml documents in one file, found more; split the file", MaxDocuments))
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue // an empty document (a stray ---) means nothing
		}
		top := doc.Content[0]
		isFirst := first
		first = false
		if isFirst && !f.Explicit && !claimsNetdep(top) {
			return fileDocs{skip: true}
		}
		if isFirst && top.Kind == yaml.MappingNode && !hasMarker(top) {
			// Named explicitly but not a netdep file at all (a manifest,
			// a values file): one message, not one per foreign key.
			found := "a yaml mapping without it"
			if k := kindOf(top); k != "" {
				found = fmt.Sprintf("a yaml mapping without it (kind: %s)", k)
			}
			*probs = append(*probs, errorf(Pos{File: f.Path, Line: top.Line, Column: top.Column}, "", "expected a netdep file (netdep: v1 at the top), found %s; name netdep files or their directories only", found))
			return out
		}
		d := newDecoder(f.Path, probs, &doc, allowance)
		dep, proj := d.document(top)
		for _, field := range d.broken {
			out.broken = append(out.broken, brokenField{doc: len(out.docLines), field: field})
		}
		out.docLines = append(out.docLines, top.Line)
		if d.aborted {
			return out // half a document would only yield confusing problems
		}
		allowance -= d.aliasVisits()
		if dep != nil {
			out.deps = append(out.deps, dep)
		}
		if proj != nil {
			out.projects = append(out.projects, proj)
		}
	}
	if first && f.Explicit {
		*probs = append(*probs, errorf(Pos{File: f.Path, Line: 1, Column: 1}, "", "expected a mapping with netdep: v1, found an empty file (only blank lines, comments or ---)"))
	}
	return out
}

// kindOf is the kind: of a Kubernetes manifest, "" for anything else.
func kindOf(top *yaml.Node) string {
	for i := 0; i+1 < len(top.Content); i += 2 {
		if k, v := top.Content[i], top.Content[i+1]; k.Value == "kind" && v.Kind == yaml.ScalarNode {
			return short(v.Value)
		}
	}
	return ""
}

// MaxDocuments bounds the YAML documents of one file. A dependency file holds
// a handful; a million empty "---" lines fit in MaxFileSize and would each
// cost a decode.
const MaxDocuments = 1000

// claimsNetdep is the directory walk's test on a file's first document: a
// mapping with the netdep key, or a list of such mappings (a common slip:
// "- netdep: v1" for several documents), whose error deserves reporting.
func claimsNetdep(top *yaml.Node) bool {
	if top.Kind == yaml.SequenceNode {
		for _, it := range top.Content {
			if hasMarker(it) {
				return true
			}
		}
		return false
	}
	return hasMarker(top)
}

// hasMarker reports whether a document's top level is a mapping with a
// netdep key (any value: a wrong version is an error, not a foreign file).
func hasMarker(top *yaml.Node) bool {
	if top.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		if k := top.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "netdep" {
			return true
		}
	}
	return false
}

var markerLine = regexp.MustCompile(`(?m)^netdep[ \t]*:`)

// startsWithMarker reports whether the first line with content, after blank
// lines, comments and "---" lines, is "netdep:" at column 0 followed by a
// blank or the end of the line. Such a file's first document is a mapping
// with the netdep key, or fails to parse and has a marker line: either way
// isNetdepFile is true, without decoding the whole file once more than
// Parse will (a third of reading 10,000 services).
func startsWithMarker(data []byte) bool {
	for len(data) > 0 {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		content := bytes.TrimLeft(line, " \t")
		switch {
		case len(content) == 0, content[0] == '#':
			continue
		case isDocumentStart(line):
			continue
		}
		rest, ok := bytes.CutPrefix(line, []byte("netdep"))
		if !ok {
			return false
		}
		rest = bytes.TrimLeft(rest, " \t")
		return len(rest) > 0 && rest[0] == ':' && (len(rest) == 1 || rest[1] == ' ' || rest[1] == '\t')
	}
	return false
}

// isDocumentStart reports whether line is "---" alone or with a comment.
func isDocumentStart(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	trimmed := bytes.TrimLeft(rest, " \t")
	return len(trimmed) == 0 || trimmed[0] == '#' && len(trimmed) < len(rest)
}

// hasMarkerLine tells a broken netdep file from a foreign file that is not
// YAML at all (a Helm template, say) when a directory walk finds it: only the
// former deserves an error.
func hasMarkerLine(data []byte) bool {
	return markerLine.Match(data)
}

// isNetdepFile is the directory walk's test: the first non-empty document's
// top level has a netdep key, or the file does not parse but has a netdep:
// line (so its syntax error is reported rather than silently skipped).
func isNetdepFile(data []byte) bool {
	if enc := textEncoding(data); enc != nil {
		return hasMarkerLine(enc.decode(data))
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		return hasMarkerLine(data)
	}
	return startsWithMarker(data) || firstDocClaimsNetdep(data)
}

// firstDocClaimsNetdep is isNetdepFile for valid UTF-8 text, the long way.
func firstDocClaimsNetdep(data []byte) bool {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for docs := 0; ; docs++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return false
		}
		if err != nil || docs == MaxDocuments {
			return hasMarkerLine(data)
		}
		if len(doc.Content) == 0 || isNull(doc.Content[0]) {
			continue
		}
		return claimsNetdep(doc.Content[0])
	}
}

var unknownAnchor = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// yamlError turns a yaml.v3 syntax error into a Problem. yaml.v3 gives only a
// line, and for parser errors ("did not find expected ...") a 0-based one; the
// column is recovered from the text for the mistakes people make most (an
// unclosed bracket or quote, a tab, a stray colon), with a word on the usual
// cause.
func yamlError(file string, data []byte, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	pos := Pos{File: file}
	lines := strings.Split(string(data), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
		for i, l := range lines {
			if c := strings.Index(l, "*"+m[1]); c >= 0 {
				pos.Line, pos.Column = i+1, c+1
				break
			}
		}
		return errorf(pos, "", "invalid yaml: alias *%s refers to no anchor; expected &%s on a value earlier in the same document", short(m[1]), short(m[1]))
	}
	// yaml.v3 leaves "line N: " out when its 0-based mark is 0: the
	// problem is on the first line. Parser errors ("did not find
	// expected ...") print the 0-based line, scanner errors the 1-based one.
	pos.Line = 1
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		pos.Line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(err.Error(), m[0])
		if strings.HasPrefix(msg, "did not find expected") {
			pos.Line++
		}
	}
	line := func(n int) string {
		if n < 1 || n > len(lines) {
			return ""
		}
		return lines[n-1]
	}
	hint := ""
	switch {
	case msg == "found incompatible YAML document":
		// A %YAML directive other than 1.1, the only version yaml.v3
		// reads; the reported line is where the document starts.
		for i, l := range lines {
			if strings.HasPrefix(l, "%YAML") {
				pos.Line, pos.Column = i+1, 1
				return errorf(pos, "", "invalid yaml: unsupported directive %q; expected no %%YAML directive (or %%YAML 1.1); remove the line", strings.TrimSpace(l))
			}
		}
	case msg == "found undefined tag handle":
		for n := pos.Line; n <= min(pos.Line+1, len(lines)); n++ {
			if loc := tagHandle.FindStringIndex(line(n)); loc != nil {
				pos.Line, pos.Column = n, loc[0]+1
				return errorf(pos, "", "invalid yaml: undefined tag handle %q; declare it with a %%TAG directive, or remove the tag (netdep files need none)", line(n)[loc[0]:loc[1]])
			}
		}
	case strings.HasPrefix(msg, "exceeded max depth"):
		if off := flowDepthOffset(data, 10000); off >= 0 {
			pos = offsetPos(file, data, off)
			hint = " (brackets nested more than 10000 deep)"
		}
	case strings.TrimSpace(line(pos.Line)) == "..." && msg == "did not find expected node content":
		pos.Column = firstNonSpace(line(pos.Line))
		hint = " (a \"...\" document end with no document before it; remove the line)"
	case strings.Contains(msg, "tab") || strings.Contains(msg, "cannot start any token"):
		for _, n := range []int{pos.Line, pos.Line + 1} {
			if c := leadingTab(line(n)); c > 0 {
				pos.Line, pos.Column = n, c
				return errorf(pos, "", "invalid yaml: expected spaces for indentation, found a tab; yaml does not allow tabs there")
			}
		}
		if c := strings.IndexAny(line(pos.Line), "@`"); c >= 0 {
			pos.Column = c + 1
			hint = fmt.Sprintf(" (%q cannot start a plain value; quote the value)", line(pos.Line)[c])
		}
	case strings.HasSuffix(msg, "',' or '}'"):
		pos.Column = unclosed(line(pos.Line), '{', '}')
		hint = " (the { here is not closed)"
	case strings.HasSuffix(msg, "',' or ']'"):
		pos.Column = unclosed(line(pos.Line), '[', ']')
		hint = " (the [ here is not closed)"
	case msg == "did not find expected node content":
		// Usually the end of the file inside a bracket opened earlier.
		for n := min(pos.Line, len(lines)); n >= 1 && n > pos.Line-3; n-- {
			c, open := unclosed(line(n), '[', ']'), byte('[')
			if c2 := unclosed(line(n), '{', '}'); c2 > 0 && (c == 0 || c2 < c) {
				c, open = c2, '{'
			}
			if c > 0 {
				pos.Line, pos.Column = n, c
				hint = fmt.Sprintf(" (the %c here is not closed)", open)
				break
			}
		}
		if pos.Column == 0 {
			pos.Column = firstNonSpace(line(pos.Line))
		}
	case msg == "did not find expected key" || msg == "did not find expected '-' indicator" || msg == "could not find expected ':'":
		pos.Column = firstNonSpace(line(pos.Line))
		hint = " (check the indentation of the lines after this one, and for a stray bracket)"
	case msg == "mapping values are not allowed in this context":
		pos.Column = lastColon(line(pos.Line))
		hint = " (a \": \" inside a plain value, or a line indented deeper than the keys around it; quote the value or fix the indentation)"
	case msg == "found unexpected end of stream":
		if c := unclosedQuote(line(pos.Line)); c > 0 {
			pos.Column = c
			hint = " (the quoted value that starts here is not closed)"
		}
	}
	if pos.Column == 0 {
		// Nothing points at the culprit: the line is what yaml.v3
		// knows, and the hints above would guess.
		hint = ""
		pos.Column = max(1, firstNonSpace(line(pos.Line)))
	}
	return errorf(pos, "", "invalid yaml: %s%s", msg, hint)
}

var tagHandle = regexp.MustCompile(`![-0-9A-Za-z]*!`)

// flowDepthOffset is the offset of the first bracket that opens more than
// limit flow collections, outside quotes and comments; -1 if there is none.
func flowDepthOffset(data []byte, limit int) int {
	depth := 0
	var quote byte
	comment := false
	for i, c := range data {
		switch {
		case comment:
			comment = c != '\n'
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '#' && (i == 0 || data[i-1] == ' ' || data[i-1] == '\t' || data[i-1] == '\n'):
			comment = true
		case c == '[' || c == '{':
			if depth++; depth > limit {
				return i
			}
		case c == ']' || c == '}':
			depth = max(0, depth-1)
		}
	}
	return -1
}

// leadingTab is the 1-based column of a tab in a line's indentation, 0 if none.
func leadingTab(l string) int {
	for i, c := range l {
		switch c {
		case '\t':
			return i + 1
		case ' ', '-':
			continue
		}
		return 0
	}
	return 0
}

func firstNonSpace(l string) int {
	if i := strings.IndexFunc(l, func(r rune) bool { return r != ' ' && r != '\t' }); i >= 0 {
		return i + 1
	}
	return 0
}

// unclosed is the 1-based column of the first open bracket of a line that the
// line does not close, 0 if none. Quoted text and comments are skipped.
func unclosed(l string, open, close byte) int {
	var stack []int
	unquoted(l, func(i int) bool {
		switch c := l[i]; {
		case c == '#' && (i == 0 || l[i-1] == ' '):
			return false
		case c == open:
			stack = append(stack, i+1)
		case c == close && len(stack) > 0:
			stack = stack[:len(stack)-1]
		}
		return true
	})
	if len(stack) == 0 {
		return 0
	}
	return stack[0]
}

// unquoted calls fn for every byte of l outside quotes, until fn returns
// false, and reports the 1-based column of a quote the line opens and does
// not close (0 if none).
func unquoted(l string, fn func(i int) bool) (openQuote int) {
	var quote byte
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote, openQuote = c, i+1
		default:
			if !fn(i) {
				return 0
			}
		}
	}
	if quote == 0 {
		return 0
	}
	return openQuote
}

// unclosedQuote is the 1-based column of a quote the line opens and does not
// close, 0 if none.
func unclosedQuote(l string) int {
	return unquoted(l, func(int) bool { return true })
}

// lastColon is the 1-based column of the last ": " (or trailing ":") of a
// line outside quotes: the one yaml refused.
func lastColon(l string) int {
	at := 0
	unquoted(l, func(i int) bool {
		if l[i] == ':' && (i+1 == len(l) || l[i+1] == ' ') {
			at = i + 1
		}
		return true
	})
	return at
}

// document decodes one top-level node into a dependency or project document.
func (d *decoder) document(top *yaml.Node) (*rawDep, *rawProject) {
	top = d.resolve(top)
	if top == nil {
		return nil, nil
	}
	if top.Kind != yaml.MappingNode {
		hint := ""
		if top.Kind == yaml.SequenceNode && claimsNetdep(top) {
			hint = "; write each document as a mapping without a leading \"- \", and separate documents with ---"
		}
		d.errorf(top, "", "expected a mapping with netdep: v1 at the top of the document, found %s%s", describe(top), hint)
		return nil, nil
	}
	// First pass without key checks: which kind of document is this?
	pairs, _ := d.mapping(top, "", "", nil)
	var marker *pair
	project := false
	for i, p := range pairs {
		switch p.Key {
		case "netdep":
			marker = &pairs[i]
		case "environments", "cluster":
			project = true
		default:
			// "enviroments:" is a project file with a typo, not a
			// dependency file missing its namespace.
			if !contains(depKeys, p.Key) && closest(p.Key, []string{"environments", "cluster"}) != "" {
				project = true
			}
		}
	}
	if marker == nil {
		d.errorf(top, "netdep", "missing schema marker; expected netdep: v1 in every document of a netdep file")
	} else if v := d.resolve(marker.V); v != nil && (v.Kind != yaml.ScalarNode || v.Value != "v1" || v.Tag != "!!str") {
		if v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
			d.errorf(v, "netdep", "unsupported schema version %q; expected v1", v.Value)
		} else {
			d.errorf(v, "netdep", "expected the schema version v1, found %s", describe(v))
		}
	}
	if project {
		return nil, d.project(top, pairs)
	}
	return d.dep(top, pairs), nil
}

// unknownKeys reports top-level keys outside known. The document kind is only
// known after a first pass, so top-level keys are checked here rather than in
// mapping.
// The keys the unknown ones were probably meant to be come back too, so that a
// misspelt required key is one mistake, not also a missing key.
func (d *decoder) unknownKeys(pairs []pair, known []string, kind string) (out []pair, meant map[string]bool) {
	meant = map[string]bool{}
	for _, p := range pairs {
		if !contains(known, p.Key) {
			d.errorf(p.K, "", "unknown key %q in a %s %s", p.Key, kind, hintOrList(p.Key, known))
			meant[closest(p.Key, known)] = true
			continue
		}
		out = append(out, p)
	}
	return out, meant
}

func (d *decoder) dep(top *yaml.Node, pairs []pair) *rawDep {
	doc := &rawDep{File: d.file, Pos: d.pos(top)}
	valid, meant := d.unknownKeys(pairs, depKeys, "dependency document")
	hasNS := meant["namespace"]
	for _, p := range valid {
		switch p.Key {
		case "namespace":
			if s, ok := d.str(p.V, "namespace", "a namespace name"); ok {
				doc.Namespace = s
				hasNS = true
			} else {
				hasNS = true // reported already
			}
		case "managed":
			if b, ok := d.boolean(p.V, "managed"); ok {
				doc.Managed = &b
				doc.ManagedPos = d.pos(p.K)
			}
		case "isolate":
			doc.IsolateSet = true
			doc.IsolatePos = d.pos(p.K)
			items, _ := d.list(p.V, "isolate", "a list of directions (ingress, egress)")
			for i, it := range items {
				if s, ok := d.str(it, fmt.Sprintf("isolate[%d]", i), "ingress or egress"); ok {
					doc.Isolate = append(doc.Isolate, s)
				}
			}
		case "services":
			svcs, _ := d.mapping(p.V, "services", "a mapping of service names to services", nil)
			for _, sp := range svcs {
				doc.Services = append(doc.Services, d.service(doc, sp))
			}
		}
	}
	if !hasNS {
		d.errorf(top, "namespace", "missing; expected the namespace the services live in")
	}
	return doc
}

func (d *decoder) service(doc *rawDep, p pair) *rawService {
	field := "services." + p.Key
	s := &rawService{Doc: doc, Name: p.Key, Pos: d.pos(p.K), Field: field}
	v := d.resolve(p.V)
	if v == nil || isNull(v) {
		return s // a service with every default: {app: <name>}, no ports
	}
	pairs, _ := d.mapping(v, field, "a service (a mapping with selector, ports, calls, from, environments)", serviceKeys)
	for _, sp := range pairs {
		f := field + "." + sp.Key
		switch sp.Key {
		case "selector":
			s.SelectorPos = d.pos(sp.K)
			s.Selector, s.SelectorSet = d.labels(sp.V, f)
		case "ports":
			ports, ok := d.mapping(sp.V, f, "a mapping of port names to ports (http: 8080)", nil)
			s.PortsBroken = !ok
			for _, pp := range ports {
				pf := f + "." + pp.Key
				val, ok := d.scalar(pp.V, pf, "a port (8080, \"53/UDP\" or \"9000-9100/TCP\")")
				if !ok {
					val = strPos{Pos: d.pos(pp.V)} // where other checks of the port point
				}
				s.Ports = append(s.Ports, rawPort{Name: pp.Key, Value: val, Field: pf, Broken: !ok})
			}
		case "calls":
			items, _ := d.list(sp.V, f, "a list of calls")
			for i, it := range items {
				if e := d.entry(it, fmt.Sprintf("%s[%d]", f, i), "to"); e != nil {
					s.Calls = append(s.Calls, e)
				}
			}
		case "from":
			items, _ := d.list(sp.V, f, "a list of callers")
			for i, it := range items {
				if e := d.entry(it, fmt.Sprintf("%s[%d]", f, i), "from"); e != nil {
					s.From = append(s.From, e)
				}
			}
		case "environments":
			s.EnvsPos = d.pos(sp.K)
			s.Envs, s.EnvsSet = d.strList(sp.V, f, "environment names")
		case "edge":
			s.Edge, _ = d.boolean(sp.V, f)
		}
	}
	return s
}

// labels decodes a selector. ok is false when the key is blank or broken, so
// the caller falls back to the default.
func (d *decoder) labels(n *yaml.Node, field string) (map[string]string, bool) {
	n = d.resolve(n)
	if n == nil || isNull(n) {
		return nil, false
	}
	pairs, ok := d.mapping(n, field, "a mapping of pod labels (app: cart)", nil)
	if !ok {
		return nil, false
	}
	out := map[string]string{}
	broken := false
	for _, p := range pairs {
		v := d.resolve(p.V)
		if v == nil {
			continue
		}
		// Label values are strings to Kubernetes, but "version: 2" or
		// "canary: true" are what people write; take the text as written.
		if v.Kind != yaml.ScalarNode || isNull(v) {
			d.brokenf(v, field+"."+p.Key, "expected a label value, found %s", describe(v))
			broken = true
			continue
		}
		out[p.Key] = v.Value
	}
	if broken && len(out) == 0 {
		// Not an empty selector (a second mistake): one not readable.
		return nil, false
	}
	return out, true
}

func (d *decoder) strList(n *yaml.Node, field, what string) ([]strPos, bool) {
	n = d.resolve(n)
	if n == nil || isNull(n) {
		return nil, false
	}
	items, ok := d.list(n, field, "a list of "+what)
	if !ok {
		return nil, false
	}
	out := []strPos{}
	for i, it := range items {
		if s, ok := d.str(it, fmt.Sprintf("%s[%d]", field, i), "a name"); ok {
			out = append(out, s)
		}
	}
	return out, true
}

// entry decodes one calls or from item; refKey is "to" or "from".
func (d *decoder) entry(n *yaml.Node, field, refKey string) *rawEntry {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	e := &rawEntry{Field: field, Pos: d.pos(n)}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!str" {
		e.Ref = strPos{S: n.Value, Pos: d.pos(n)}
		return e
	}
	if n.Kind != yaml.MappingNode {
		hint := ""
		if n.Tag == "!!int" {
			hint = " (a port needs its service: \"svc:" + n.Value + "\")"
		}
		d.brokenf(n, field, "expected a service reference (\"svc\", \"ns/svc:port\") or a mapping with %s, cidr or namespace/selector, found %s%s", refKey, describe(n), hint)
		return nil
	}
	if refKey == "from" {
		// Checked first: whatever else the entry says, a host cannot be
		// a caller.
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.Value == "host" {
				d.errorf(k, field+".host", "a from entry cannot name a host: connections from outside the cluster arrive from addresses, not names; write the callers' addresses as cidr: instead")
				return nil
			}
		}
	}
	all := []string{refKey, "cidr", "except", "namespace", "selector", "ports", "environments", "overriddenBy", "exception"}
	if refKey == "to" {
		all = append(all, "host")
	}
	before := len(*d.probs)
	pairs, _ := d.mapping(n, field, "", all)
	keyProblems := len(*d.probs) > before
	has := map[string]pair{}
	for _, p := range pairs {
		has[p.Key] = p
	}
	_, isRef := has[refKey]
	_, isHost := has["host"]
	_, isCIDR := has["cidr"]
	_, isNS := has["namespace"]
	_, isSel := has["selector"]
	var allowed []string
	switch {
	case isRef && (isHost || isCIDR || isNS || isSel):
		d.errorf(n, field, "expected one kind of peer, found %s together with %s", refKey, firstOf(has, "host", "cidr", "namespace", "selector"))
		return nil
	case isHost && (isCIDR || isNS || isSel):
		d.errorf(n, field, "expected one kind of peer, found host together with %s", firstOf(has, "cidr", "namespace", "selector"))
		return nil
	case isCIDR && (isNS || isSel):
		d.errorf(n, field, "expected one kind of peer, found cidr together with %s", firstOf(has, "namespace", "selector"))
		return nil
	case isRef:
		e.Kind = entryRef
		allowed = []string{refKey, "environments", "overriddenBy", "exception"}
	case isHost:
		e.Kind = entryHost
		allowed = []string{"host", "ports", "environments", "overriddenBy", "exception"}
	case isCIDR:
		e.Kind = entryCIDR
		allowed = []string{"cidr", "except", "ports", "environments", "overriddenBy", "exception"}
	case isNS || isSel:
		e.Kind = entryRaw
		allowed = []string{"namespace", "selector", "ports", "environments", "overriddenBy", "exception"}
	default:
		if !keyProblems { // an unknown key already says what is wrong
			found := "an empty mapping"
			if len(pairs) > 0 {
				var keys []string
				for _, p := range pairs {
					keys = append(keys, p.Key)
				}
				found = "only " + strings.Join(keys, ", ")
			}
			kinds := refKey + ", cidr, namespace or selector"
			if refKey == "to" {
				kinds = "to, host, cidr, namespace or selector"
			}
			d.errorf(n, field, "expected a peer: one of %s, found %s", kinds, found)
		}
		return nil
	}
	for _, p := range pairs {
		f := field + "." + p.Key
		if !contains(allowed, p.Key) {
			d.errorf(p.K, field, "unknown key %q for this kind of peer %s", p.Key, hintOrList(p.Key, allowed))
			continue
		}
		switch p.Key {
		case refKey:
			if s, ok := d.str(p.V, f, "a service reference (\"svc\", \"ns/svc:port\")"); ok {
				e.Ref = s
			} else {
				return nil
			}
		case "host":
			if s, ok := d.str(p.V, f, "a host name (api.example.com or \"*.example.com\")"); ok {
				e.Host = s
			} else {
				return nil
			}
		case "cidr":
			if s, ok := d.str(p.V, f, "a cidr (10.0.0.0/8) or the name of a cidr set"); ok {
				e.CIDR = s
			} else {
				return nil
			}
		case "except":
			e.Except, _ = d.strList(p.V, f, "cidrs")
		case "namespace":
			if s, ok := d.str(p.V, f, "a namespace name"); ok {
				e.Namespace, e.NamespaceSet = s, true
			} else {
				return nil
			}
		case "selector":
			e.Selector, e.SelectorSet = d.labels(p.V, f)
			if e.Selector == nil {
				e.SelectorSet = false
			}
		case "ports":
			e.PortsSet = true
			e.PortsPos = d.pos(p.K)
			v := d.resolve(p.V)
			if v == nil {
				return nil
			}
			if v.Kind == yaml.ScalarNode && v.Tag == "!!str" && v.Value == "any" {
				e.AnyPort = true
				continue
			}
			if v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!str") {
				// Suggest only what would load: a port name needs a
				// service to look it up on, so it works in from only.
				hint := ""
				switch {
				case strings.EqualFold(v.Value, "any"):
					hint = " (did you mean ports: any?)"
				case isPortValue(v.Value) || refKey == "from":
					hint = fmt.Sprintf(" (did you mean ports: [%s]?)", short(v.Value))
				case e.Kind == entryHost:
					hint = " (a call to a host takes port numbers, such as ports: [443])"
				default:
					hint = " (a call to a cidr or raw peer takes port numbers, such as ports: [443])"
				}
				d.brokenf(v, f, "expected a list of ports or the word any, found %s%s", describe(v), hint)
				return nil
			}
			items, ok := d.list(v, f, "a list of ports or the word any")
			if !ok {
				return nil
			}
			for i, it := range items {
				if s, ok := d.scalar(it, fmt.Sprintf("%s[%d]", f, i), "a port (443, \"53/UDP\", a port name)"); ok {
					e.Ports = append(e.Ports, s)
				}
			}
		case "environments":
			e.EnvsPos = d.pos(p.K)
			e.Envs, e.EnvsSet = d.strList(p.V, f, "environment names")
		case "overriddenBy":
			e.OverriddenBy, _ = d.str(p.V, f, "the name of a guardrail")
		case "exception":
			e.Exception = d.exception(p.K, p.V, f)
		}
	}
	return e
}

func firstOf(has map[string]pair, keys ...string) string {
	for _, k := range keys {
		if _, ok := has[k]; ok {
			return k
		}
	}
	return ""
}

func (d *decoder) project(top *yaml.Node, pairs []pair) *rawProject {
	pr := &rawProject{File: d.file, Pos: d.pos(top)}
	valid, meant := d.unknownKeys(pairs, projectKeys, "project document")
	hasEnvs := meant["environments"]
	for _, p := range valid {
		switch p.Key {
		case "cluster":
			pr.Cluster = d.settings(p.V, "cluster")
		case "layout":
			if v, ok := d.scalar(p.V, "layout", "auto, environment or namespace"); ok {
				switch v.S {
				case "auto", "environment", "namespace":
					pr.Layout = v.S
				default:
					d.errorf(p.V, "layout", "expected auto, environment or namespace, found %q", v.S)
				}
			}
		case "exceptions":
			pr.WarnDays = d.exceptionSettings(p.V, "exceptions")
		case "environments":
			hasEnvs = true
			envs, ok := d.mapping(p.V, "environments", "a mapping of environment names to settings", nil)
			if ok && len(envs) == 0 {
				d.errorf(p.K, "environments", "expected at least one environment, found none")
			}
			for _, ep := range envs {
				f := "environments." + ep.Key
				pr.Envs = append(pr.Envs, rawEnv{Name: ep.Key, Pos: d.pos(ep.K), Field: f, Settings: d.settings(ep.V, f)})
			}
		}
	}
	if !hasEnvs {
		d.errorf(top, "environments", "missing; a project document declares at least one environment")
	}
	return pr
}

func (d *decoder) settings(n *yaml.Node, field string) rawSettings {
	var s rawSettings
	n = d.resolve(n)
	if n == nil || isNull(n) {
		return s
	}
	pairs, _ := d.mapping(n, field, "a mapping with "+joinKeys(settingsKeys), settingsKeys)
	for _, p := range pairs {
		f := field + "." + p.Key
		switch p.Key {
		case "plugin":
			s.Plugin = d.word(p.V, f, []string{string(PluginKubernetes), string(PluginCilium), string(PluginCalico)},
				"kubernetes (NetworkPolicy v1 only), cilium or calico")
		case "mode":
			s.Mode = d.word(p.V, f, []string{string(ModeEnforce), string(ModeAudit)}, "enforce or audit")
		case "log":
			s.Log = d.word(p.V, f, []string{"denied", "none"}, "denied or none")
		case "hosts":
			hosts, _ := d.mapping(p.V, f, "a mapping of host names to lists of cidrs ({api.example.com: [203.0.113.10/32]})", nil)
			for _, hp := range hosts {
				hf := f + "." + hp.Key
				h := rawHost{Name: hp.Key, Pos: d.pos(hp.K), Field: hf}
				h.CIDRs, _ = d.strList(hp.V, hf, "cidrs")
				s.Hosts = append(s.Hosts, h)
			}
		case "dns":
			s.DNS = d.dns(p.V, f)
		case "guardrails":
			s.Guardrails = d.guardrails(p.V, f)
		case "sensitive":
			names, _ := d.strList(p.V, f, "namespaces")
			s.Sensitive = &rawNames{Field: f, Names: names}
		case "cidrs":
			sets, _ := d.mapping(p.V, f, "a mapping of cidr set names to lists of cidrs", nil)
			for _, sp := range sets {
				sf := f + "." + sp.Key
				set := rawCIDRSet{Name: sp.Key, Pos: d.pos(sp.K), Field: sf}
				set.CIDRs, _ = d.strList(sp.V, sf, "cidrs")
				s.CIDRs = append(s.CIDRs, set)
			}
		case "podCIDRs", "serviceCIDRs":
			r := &rawRanges{Field: f}
			if v := d.resolve(p.V); v != nil && v.Kind == yaml.ScalarNode && v.Tag == "!!str" {
				r.CIDRs = []strPos{{S: v.Value, Pos: d.pos(v)}} // one range written without a list
			} else {
				r.CIDRs, _ = d.strList(p.V, f, "cidrs")
			}
			if p.Key == "podCIDRs" {
				s.PodCIDRs = r
			} else {
				s.ServiceCIDRs = r
			}
		}
	}
	return s
}

// word decodes a keyword setting: one of known, what describing them. nil
// when the value is not one of them (reported).
func (d *decoder) word(n *yaml.Node, field string, known []string, what string) *rawWord {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" && contains(known, "none") {
		d.brokenf(n, field, "expected %s, found %s (write %s)", what, describe(n), map[bool]string{true: "denied", false: "none"}[n.Value == "true"])
		return nil
	}
	s, ok := d.str(n, field, what)
	if !ok {
		return nil
	}
	if !contains(known, s.S) {
		d.errorf(n, field, "unknown value %q; expected %s%s", s.S, what, didYouMean(s.S, known))
		return nil
	}
	return &rawWord{Field: field, Value: s}
}

func (d *decoder) dns(n *yaml.Node, field string) *rawDNS {
	n = d.resolve(n)
	if n == nil {
		return nil
	}
	r := &rawDNS{Field: field, Pos: d.pos(n)}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		b, _ := d.boolean(n, field)
		r.Off = !b
		return r // dns: true means the default
	}
	pairs, ok := d.mapping(n, field, "false or a mapping with namespace/selector or cidr, and ports", dnsKeys)
	if !ok {
		return nil
	}
	has := map[string]bool{}
	for _, p := range pairs {
		has[p.Key] = true
		f := field + "." + p.Key
		switch p.Key {
		case "namespace":
			if s, ok := d.str(p.V, f, "a namespace name"); ok {
				r.Namespace, r.NamespaceSet = s, true
			}
		case "selector":
			r.Selector, r.SelectorSet = d.labels(p.V, f)
		case "cidr":
			v := d.resolve(p.V)
			if v != nil && v.Kind == yaml.SequenceNode {
				r.CIDRs, _ = d.strList(v, f, "cidrs")
			} else if s, ok := d.str(p.V, f, "a cidr or a list of cidrs"); ok {
				r.CIDRs = []strPos{s}
			}
		case "ports":
			if v := d.resolve(p.V); v != nil && v.Kind == yaml.ScalarNode && (v.Tag == "!!int" || v.Tag == "!!str") {
				hint := " " + dnsPortsAdvice
				if isPortValue(v.Value) {
					hint = fmt.Sprintf(" (did you mean ports: [%s]?)", short(v.Value))
				}
				d.brokenf(v, f, "expected a list of port numbers, found %s%s", describe(v), hint)
				continue
			}
			r.PortsSet = true
			items, _ := d.list(p.V, f, "a list of ports")
			for i, it := range items {
				if s, ok := d.scalar(it, fmt.Sprintf("%s[%d]", f, i), "a port (53, \"53/UDP\")"); ok {
					r.Ports = append(r.Ports, s)
				}
			}
		}
	}
	if has["cidr"] && (has["namespace"] || has["selector"]) {
		d.errorf(n, field, "expected either cidr or namespace/selector, found both")
	}
	return r
}
