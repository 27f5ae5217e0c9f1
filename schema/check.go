package schema

import (
	"bytes"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// CheckName validates a DNS-1123 label (a namespace or service name) as
// the loader does: "" when it is valid, else the loader's message, e.g.
// `invalid namespace "Shop_Prod": ... (did you mean "shop-prod"?)`. For
// importers, which must refuse a name before writing it into a file.
func CheckName(what, s string) string { return checkLabel(what, s) }

// ReservedService reports whether name is reserved: the name of a
// namespace-wide policy netdep writes, or of a file of the tree, which no
// service may take.
func ReservedService(name string) bool { return contains(reservedServices, name) }

// CheckLabels validates label keys and values as the API server (and the
// loader, for selectors) does: one message per bad key or value, sorted by
// key; none when all are valid.
func CheckLabels(l map[string]string) []string { return checkSelector(l) }

// YAMLError is the loader's problem for a yaml.v3 syntax error in data:
// the line and, where it can tell, the column of the culprit, with a hint.
func YAMLError(file string, data []byte, err error) Problem { return yamlError(file, data, err) }

// Describe names a YAML node's kind for "expected X, found Y" messages, as
// the loader does: "a mapping", "a list", "a string", "a number", ...
func Describe(n *yaml.Node) string { return describe(n) }

// CheckText is the loader's test of a file's bytes before YAML: UTF-8 (a
// byte order mark allowed), no control character YAML refuses. It returns
// the problem at the culprit's line and column (yaml.v3 gives none for
// these), nil when the text is fine. For readers of other YAML files
// (manifests), so that their problems are positioned alike.
func CheckText(file string, data []byte) *Problem {
	if enc := textEncoding(data); enc != nil {
		p := enc.problem(file)
		return &p
	}
	data = bytes.TrimPrefix(data, utf8BOM)
	if !utf8.Valid(data) {
		p := errorf(invalidUTF8Pos(file, data), "", "expected UTF-8 text, found a byte sequence that is not UTF-8; save the file as UTF-8")
		return &p
	}
	if off, r := forbiddenRune(data); off >= 0 {
		p := forbiddenProblem(file, data, off, r)
		return &p
	}
	return nil
}
