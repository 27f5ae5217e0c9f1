package eval

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"gopkg.in/yaml.v3"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DecodeError is one problem in a manifest stream. Document is 1-based, in
// the order of the stream; Line and Column are 1-based and 0 when unknown.
type DecodeError struct {
	Document     int
	Line, Column int
	Field        string // e.g. spec.ingress[0].from[1].podSelector
	Msg          string
	// Syntax is yaml.v3's error when the problem is the stream's syntax
	// (Documents.Err), for callers that can place it better.
	Syntax error
}

// Error formats e as "line:col: document N: field: msg", ready for a caller
// to prefix with the file name.
func (e *DecodeError) Error() string {
	var b strings.Builder
	switch {
	case e.Line > 0 && e.Column > 0:
		fmt.Fprintf(&b, "%d:%d: ", e.Line, e.Column)
	case e.Line > 0:
		fmt.Fprintf(&b, "%d: ", e.Line)
	}
	fmt.Fprintf(&b, "document %d: ", e.Document)
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

const (
	networkingV1 = "networking.k8s.io/v1"
	// maxNodes bounds the work on one document: YAML aliases can make a
	// small document expand without limit.
	maxNodes = 1 << 20
)

// Decode returns the networking.k8s.io/v1 NetworkPolicies of a
// multi-document YAML stream, in stream order, as written (not defaulted).
//
//   - Objects of other kinds are skipped, and so are NetworkPolicy kinds of
//     other API groups (Calico's projectcalico.org/v3 NetworkPolicy, ...);
//     another version of networking.k8s.io or extensions is an error.
//   - A List (kind List or *List, as `kubectl get -o yaml` prints) is
//     expanded; items of a NetworkPolicyList may omit apiVersion and kind.
//   - Decoding is strict, as the API server's with fieldValidation=Strict:
//     an unknown or duplicate field, or a value of the wrong type, is an
//     error with its document, line and column. Every problem is reported.
//   - Scalars follow YAML 1.2 (as kustomize reads them): `namespace: y` is
//     the string "y", not a boolean.
func Decode(data []byte) ([]*networkingv1.NetworkPolicy, error) {
	return ParseDocuments(data).Policies()
}

// Documents are the YAML documents of one stream, parsed once, so that
// every kind of object read from them (NetworkPolicies here, Namespaces in
// verify) costs one parse.
type Documents struct {
	// Roots holds each document's top node, document i+1 at index i; nil
	// for an empty document.
	Roots []*yaml.Node
	// Err is the syntax error that ended the stream, nil if it read whole.
	Err *DecodeError
}

// ParseDocuments splits data into YAML documents, up to the first syntax
// error.
func ParseDocuments(data []byte) Documents {
	if ds, ok := parseSimple(data); ok {
		return ds
	}
	return parseYAML(data)
}

// parseYAML is ParseDocuments with yaml.v3's parser, which reads all YAML.
func parseYAML(data []byte) Documents {
	var ds Documents
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for doc := 1; ; doc++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			return ds
		}
		if err != nil {
			line, msg := yamlErr(err)
			ds.Err = &DecodeError{Document: doc, Line: line, Msg: msg, Syntax: err}
			return ds
		}
		var root *yaml.Node
		if len(n.Content) > 0 && !(n.Content[0].Kind == yaml.ScalarNode && n.Content[0].Tag == "!!null") {
			root = n.Content[0]
		}
		ds.Roots = append(ds.Roots, root)
	}
}

// Policies decodes the NetworkPolicies of the documents, as Decode does.
func (ds Documents) Policies() ([]*networkingv1.NetworkPolicy, error) {
	return decodeAll(ds, (*decoder).policy)
}

// decodeAll decodes every object of the documents (Lists expanded) with
// one, which keeps the objects of its kind; every problem of every
// document, and the stream's syntax error, is returned at once.
func decodeAll[T any](ds Documents, one func(d *decoder, n *yaml.Node, apiVersion, kind string, out *[]T)) ([]T, error) {
	var out []T
	var errs []error
	for i, root := range ds.Roots {
		if root == nil {
			continue // an empty document
		}
		d := &decoder{doc: i + 1}
		d.object(root, "", "", func(n *yaml.Node, apiVersion, kind string) { one(d, n, apiVersion, kind, &out) })
		errs = append(errs, d.errs...)
	}
	if ds.Err != nil {
		errs = append(errs, ds.Err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// nodeAt is the node a field path such as spec.ingress[0].ports[1].port
// or spec.podSelector.matchLabels[app] names under an object's node, or the
// deepest node on the way when the rest is not written (a defaulted field).
func nodeAt(n *yaml.Node, path string) *yaml.Node {
	at := resolve(n)
	for _, seg := range strings.Split(path, ".") {
		name, rest, _ := strings.Cut(seg, "[")
		steps := []string{name}
		for rest != "" {
			var key string
			key, rest, _ = strings.Cut(rest, "]")
			steps = append(steps, "["+key)
			rest = strings.TrimPrefix(rest, "[")
		}
		for _, st := range steps {
			var next *yaml.Node
			switch {
			case st == "":
				continue
			case strings.HasPrefix(st, "[") && at.Kind == yaml.SequenceNode:
				if i, err := strconv.Atoi(st[1:]); err == nil && i >= 0 && i < len(at.Content) {
					next = resolve(at.Content[i])
				}
			case at.Kind == yaml.MappingNode:
				key := strings.TrimPrefix(st, "[")
				for i := 0; i+1 < len(at.Content); i += 2 {
					if at.Content[i].Value == key {
						next = resolve(at.Content[i+1])
						if strings.HasPrefix(st, "[") {
							next = at.Content[i] // a map key: point at the key
						}
						break
					}
				}
			}
			if next == nil {
				return at
			}
			at = next
		}
	}
	return at
}

// yamlErr splits yaml.v3's "yaml: line N: msg" into N and msg.
func yamlErr(err error) (int, string) {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if s, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(s, ": "); i > 0 {
			if n, err := strconv.Atoi(s[:i]); err == nil {
				return n, s[i+2:]
			}
		}
	}
	return 0, msg
}

type decoder struct {
	doc   int
	errs  []error
	nodes int
}

func (d *decoder) errorf(n *yaml.Node, field, format string, args ...any) {
	d.errs = append(d.errs, &DecodeError{Document: d.doc, Line: n.Line, Column: n.Column, Field: field, Msg: fmt.Sprintf(format, args...)})
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

// object decodes one Kubernetes object (or List) at n. defAPIVersion and
// defKind apply to List items that omit them.
func (d *decoder) object(n *yaml.Node, defAPIVersion, defKind string, visit func(n *yaml.Node, apiVersion, kind string)) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, "", "expected a Kubernetes object (a mapping), found %s", describe(n))
		return
	}
	str := func(key, def string) (string, bool) {
		v := mapValue(n, key)
		if v == nil {
			return def, def != ""
		}
		if v.Kind != yaml.ScalarNode || v.Tag != "!!str" {
			d.errorf(v, key, "expected a string, found %s", describe(v))
			return "", false
		}
		return v.Value, true
	}
	apiVersion, okV := str("apiVersion", defAPIVersion)
	kind, okK := str("kind", defKind)
	if !okV || !okK {
		if len(d.errs) == 0 {
			d.errorf(n, "", "not a Kubernetes object: apiVersion and kind are required")
		}
		return
	}
	if kind == "List" || strings.HasSuffix(kind, "List") {
		items := mapValue(n, "items")
		if items == nil || (items.Kind == yaml.ScalarNode && items.Tag == "!!null") {
			return
		}
		if items.Kind != yaml.SequenceNode {
			d.errorf(items, "items", "expected a list, found %s", describe(items))
			return
		}
		itemKind := ""
		if kind != "List" {
			itemKind = strings.TrimSuffix(kind, "List")
		}
		for _, it := range items.Content {
			d.object(it, apiVersion, itemKind, visit)
		}
		return
	}
	visit(n, apiVersion, kind)
}

// policy decodes the NetworkPolicy at n, if it is one.
func (d *decoder) policy(n *yaml.Node, apiVersion, kind string, out *[]*networkingv1.NetworkPolicy) {
	if kind != "NetworkPolicy" {
		return
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	if apiVersion != networkingV1 {
		if group == "networking.k8s.io" || group == "extensions" {
			d.errorf(n, "apiVersion", "unsupported apiVersion %q for NetworkPolicy (want %s)", apiVersion, networkingV1)
		}
		return
	}
	p := &networkingv1.NetworkPolicy{}
	if !d.strict(n, apiVersion, kind, p) {
		return
	}
	// What the API server would refuse is refused here, where the value's
	// line and column are known; New validates again, for policies that
	// were never text.
	ns := p.Namespace
	if ns == "" {
		ns = DefaultNamespace
	}
	if d.fieldErrors(n, Validate(Default(p)), "networkpolicy "+ns+"/"+p.Name) {
		return
	}
	*out = append(*out, p)
}

// strict decodes the object at n into into (a pointer to the object's Go
// type) as the API server does with fieldValidation=Strict: every unknown
// or duplicate field and every value of the wrong type is an error at its
// line and column. It reports whether into was decoded.
func (d *decoder) strict(n *yaml.Node, apiVersion, kind string, into any) bool {
	before := len(d.errs)
	dst := reflect.ValueOf(into).Elem()
	d.set(n, dst, "")
	if len(d.errs) > before {
		return false
	}
	fields := fieldsOf(dst.Type())
	for name, value := range map[string]string{"apiVersion": apiVersion, "kind": kind} {
		f, ok := fields[name]
		if !ok {
			d.errorf(n, "", "%s has no field %s", dst.Type(), name)
			return false
		}
		fieldAt(dst, f.path).SetString(value)
	}
	return true
}

// fieldErrors reports each validation error of the object at n at the
// node its field path names, its message prefixed by what ("networkpolicy
// ns/name"); it reports whether there were any.
func (d *decoder) fieldErrors(n *yaml.Node, errs field.ErrorList, what string) bool {
	for _, fe := range errs {
		body := fe.ErrorBody()
		if body != "" {
			body = strings.ToLower(body[:1]) + body[1:]
		}
		d.errorf(nodeAt(n, fe.Field), fe.Field, "%s: %s", what, body)
	}
	return len(errs) > 0
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	switch n.Tag {
	case "!!null":
		return "null"
	case "!!bool":
		return "a boolean " + n.Value
	case "!!int", "!!float":
		return "a number " + n.Value
	}
	return fmt.Sprintf("%q", n.Value)
}

var (
	intOrString     = reflect.TypeOf(intstr.IntOrString{})
	jsonUnmarshaler = reflect.TypeOf((*json.Unmarshaler)(nil)).Elem()
)

func child(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// set decodes node n into dst, an addressable value of the Go type n must
// fit, as encoding/json would decode n's JSON into it, reporting every
// unknown field, duplicate key and type mismatch with its position.
func (d *decoder) set(n *yaml.Node, dst reflect.Value, path string) {
	n = resolve(n)
	if d.nodes++; d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n, path, "document too large (more than %d nodes, aliases expanded)", maxNodes)
		}
		return
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return // the zero value, as encoding/json leaves it
	}
	for dst.Kind() == reflect.Pointer {
		if dst.IsNil() {
			dst.Set(reflect.New(dst.Type().Elem()))
		}
		dst = dst.Elem()
	}
	t := dst.Type()
	switch {
	case t == intOrString:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "expected a number or a string, found %s", describe(n))
			return
		}
		if n.Tag == "!!int" {
			if x, ok := d.integer(n, path, 32); ok {
				dst.Set(reflect.ValueOf(intstr.FromInt32(int32(x))))
			}
			return
		}
		if n.Tag != "!!str" {
			d.errorf(n, path, "expected a number or a string, found %s", describe(n))
			return
		}
		dst.Set(reflect.ValueOf(intstr.FromString(n.Value)))
		return
	case reflect.PointerTo(t).Implements(jsonUnmarshaler) && t.Kind() != reflect.String:
		// metav1.Time, FieldsV1, json.RawMessage, ...: the type reads its
		// own JSON.
		var v any
		if err := n.Decode(&v); err != nil {
			d.errorf(n, path, "%v", err)
			return
		}
		raw, err := json.Marshal(jsonable(v))
		if err == nil {
			err = dst.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(raw)
		}
		if err != nil {
			d.errorf(n, path, "%v", err)
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, found %s", describe(n))
			return
		}
		fields := fieldsOf(t)
		var seen map[string]bool
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := resolve(n.Content[i]), n.Content[i+1]
			if k.Kind != yaml.ScalarNode {
				d.errorf(k, path, "expected a field name, found %s", describe(k))
				continue
			}
			if seen[k.Value] {
				d.errorf(k, child(path, k.Value), "duplicate field %q", k.Value)
				continue
			}
			if seen == nil {
				seen = make(map[string]bool, len(n.Content)/2)
			}
			seen[k.Value] = true
			f, ok := fields[k.Value]
			if !ok {
				d.errorf(k, path, "unknown field %q", k.Value)
				continue
			}
			d.set(v, fieldAt(dst, f.path), child(path, k.Value))
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, found %s", describe(n))
			return
		}
		if t.Key().Kind() != reflect.String {
			d.errorf(n, path, "unsupported field type %s", t)
			return
		}
		if dst.IsNil() {
			dst.Set(reflect.MakeMapWithSize(t, len(n.Content)/2))
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				d.errorf(k, path, "expected a key, found %s", describe(k))
				continue
			}
			key := reflect.ValueOf(k.Value).Convert(t.Key())
			if dst.MapIndex(key).IsValid() {
				d.errorf(k, child(path, k.Value), "duplicate key %q", k.Value)
				continue
			}
			e := reflect.New(t.Elem()).Elem()
			d.set(n.Content[i+1], e, child(path, k.Value))
			dst.SetMapIndex(key, e)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, found %s", describe(n))
			return
		}
		dst.Set(reflect.MakeSlice(t, len(n.Content), len(n.Content)))
		for i, c := range n.Content {
			d.set(c, dst.Index(i), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.String:
		// Timestamps and the like are strings to a string field.
		if n.Kind != yaml.ScalarNode || n.Tag == "!!bool" || n.Tag == "!!int" || n.Tag == "!!float" {
			d.errorf(n, path, "expected a string, found %s", describe(n))
			return
		}
		dst.SetString(n.Value)
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, path, "expected true or false, found %s", describe(n))
			return
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, path, "%v", err)
			return
		}
		dst.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if x, ok := d.integer(n, path, t.Bits()); ok {
			dst.SetInt(x)
		}
	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" && n.Tag != "!!float" {
			d.errorf(n, path, "expected a number, found %s", describe(n))
			return
		}
		var x float64
		if err := n.Decode(&x); err != nil {
			d.errorf(n, path, "expected a number, found %s", describe(n))
			return
		}
		dst.SetFloat(x)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		x, ok := d.integer(n, path, 64)
		switch {
		case !ok:
		case x < 0:
			d.errorf(n, path, "expected a non-negative number, found %s", describe(n))
		case t.Bits() < 64 && uint64(x) >= 1<<t.Bits():
			d.errorf(n, path, "number %s out of range", n.Value)
		default:
			dst.SetUint(uint64(x))
		}
	default:
		d.errorf(n, path, "unsupported field type %s", t)
	}
}

func (d *decoder) integer(n *yaml.Node, path string, bits int) (int64, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, path, "expected a number, found %s", describe(n))
		return 0, false
	}
	var x int64
	if err := n.Decode(&x); err != nil {
		d.errorf(n, path, "expected a number, found %s", describe(n))
		return 0, false
	}
	if bits < 64 && (x < -(1<<(bits-1)) || x >= 1<<(bits-1)) {
		d.errorf(n, path, "number %s out of range", n.Value)
		return 0, false
	}
	return x, true
}

var fieldCache sync.Map // reflect.Type -> map[string]fieldInfo

// fieldInfo is one JSON field of a struct type: its Go type and its index
// path (through embedded structs) from the struct.
type fieldInfo struct {
	Type reflect.Type
	path []int
}

func fieldsOf(t reflect.Type) map[string]fieldInfo {
	if f, ok := fieldCache.Load(t); ok {
		return f.(map[string]fieldInfo)
	}
	f := map[string]fieldInfo{}
	collectFields(t, nil, f)
	fieldCache.Store(t, f)
	return f
}

// collectFields lists t's JSON fields, with embedded inline structs
// (TypeMeta) flattened as encoding/json does; at is t's index path.
func collectFields(t reflect.Type, at []int, out map[string]fieldInfo) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		path := append(append([]int(nil), at...), i)
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			collectFields(ft, path, out)
			continue
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = fieldInfo{Type: f.Type, path: path}
	}
}

// fieldAt is the field at index path of struct v, allocating the embedded
// structs on the way that are pointers.
func fieldAt(v reflect.Value, path []int) reflect.Value {
	for i, x := range path {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

// jsonable turns yaml.v3's generic values into what encoding/json accepts.
func jsonable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonable(e)
		}
		return x
	case map[any]any:
		m := map[string]any{}
		for k, e := range x {
			m[fmt.Sprint(k)] = jsonable(e)
		}
		return m
	case []any:
		for i, e := range x {
			x[i] = jsonable(e)
		}
		return x
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case fmt.Stringer:
		return x.String()
	}
	return v
}
