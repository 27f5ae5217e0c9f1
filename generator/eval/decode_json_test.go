package eval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	v1alpha1 "sigs.k8s.io/network-policy-api/apis/v1alpha1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// The decoder as it was before it set Go values directly: yaml nodes to
// JSON-ready values, encoding/json into the type. Kept to hold the direct
// decoder to the same objects (TestStrictMatchesJSON, FuzzStrictMatchesJSON).

func (d *decoder) strictJSON(n *yaml.Node, apiVersion, kind string, into any) bool {
	before := len(d.errs)
	v := d.valueJSON(n, reflect.TypeOf(into).Elem(), "")
	if len(d.errs) > before {
		return false
	}
	m := v.(map[string]any)
	m["apiVersion"], m["kind"] = apiVersion, kind
	raw, err := json.Marshal(m)
	if err != nil {
		d.errorf(n, "", "%v", err)
		return false
	}
	jd := json.NewDecoder(bytes.NewReader(raw))
	jd.DisallowUnknownFields()
	if err := jd.Decode(into); err != nil {
		d.errorf(n, "", "%v", err)
		return false
	}
	return true
}

func (d *decoder) valueJSON(n *yaml.Node, t reflect.Type, path string) any {
	n = resolve(n)
	if d.nodes++; d.nodes > maxNodes {
		if d.nodes == maxNodes+1 {
			d.errorf(n, path, "document too large (more than %d nodes, aliases expanded)", maxNodes)
		}
		return nil
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == intOrString:
		if n.Kind != yaml.ScalarNode {
			d.errorf(n, path, "expected a number or a string, found %s", describe(n))
			return nil
		}
		if n.Tag == "!!int" {
			return d.integerJSON(n, path, 32)
		}
		if n.Tag != "!!str" {
			d.errorf(n, path, "expected a number or a string, found %s", describe(n))
			return nil
		}
		return n.Value
	case reflect.PointerTo(t).Implements(jsonUnmarshaler) && t.Kind() != reflect.String:
		// metav1.Time, FieldsV1, ...: the type reads its own JSON.
		var v any
		if err := n.Decode(&v); err != nil {
			d.errorf(n, path, "%v", err)
			return nil
		}
		return jsonable(v)
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, found %s", describe(n))
			return nil
		}
		fields := fieldsOf(t)
		out := map[string]any{}
		seen := map[string]bool{}
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
			seen[k.Value] = true
			f, ok := fields[k.Value]
			if !ok {
				d.errorf(k, path, "unknown field %q", k.Value)
				continue
			}
			out[k.Value] = d.valueJSON(v, f.Type, child(path, k.Value))
		}
		return out
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			d.errorf(n, path, "expected a mapping, found %s", describe(n))
			return nil
		}
		out := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := resolve(n.Content[i])
			if k.Kind != yaml.ScalarNode {
				d.errorf(k, path, "expected a key, found %s", describe(k))
				continue
			}
			if _, dup := out[k.Value]; dup {
				d.errorf(k, child(path, k.Value), "duplicate key %q", k.Value)
				continue
			}
			out[k.Value] = d.valueJSON(n.Content[i+1], t.Elem(), child(path, k.Value))
		}
		return out
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			d.errorf(n, path, "expected a list, found %s", describe(n))
			return nil
		}
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			out = append(out, d.valueJSON(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i)))
		}
		return out
	case reflect.String:
		// Timestamps and the like are strings to a string field.
		if n.Kind != yaml.ScalarNode || n.Tag == "!!bool" || n.Tag == "!!int" || n.Tag == "!!float" {
			d.errorf(n, path, "expected a string, found %s", describe(n))
			return nil
		}
		return n.Value
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			d.errorf(n, path, "expected true or false, found %s", describe(n))
			return nil
		}
		var b bool
		if err := n.Decode(&b); err != nil {
			d.errorf(n, path, "%v", err)
		}
		return b
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return d.integerJSON(n, path, t.Bits())
	case reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" && n.Tag != "!!float" {
			d.errorf(n, path, "expected a number, found %s", describe(n))
			return nil
		}
		var x float64
		if err := n.Decode(&x); err != nil {
			d.errorf(n, path, "expected a number, found %s", describe(n))
			return nil
		}
		return x
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		v := d.integerJSON(n, path, 64)
		if x, ok := v.(int64); ok && x < 0 {
			d.errorf(n, path, "expected a non-negative number, found %s", describe(n))
			return nil
		}
		return v
	}
	d.errorf(n, path, "unsupported field type %s", t)
	return nil
}

func (d *decoder) integerJSON(n *yaml.Node, path string, bits int) any {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
		d.errorf(n, path, "expected a number, found %s", describe(n))
		return nil
	}
	var x int64
	if err := n.Decode(&x); err != nil {
		d.errorf(n, path, "expected a number, found %s", describe(n))
		return nil
	}
	if bits < 64 && (x < -(1<<(bits-1)) || x >= 1<<(bits-1)) {
		d.errorf(n, path, "number %s out of range", n.Value)
		return nil
	}
	return x
}

// strictTypes are the Go types the decoder reads objects into, by kind.
var strictTypes = map[string]func() any{
	"NetworkPolicy":                 func() any { return &networkingv1.NetworkPolicy{} },
	"ClusterNetworkPolicy":          func() any { return &v1beta1.ClusterNetworkPolicy{} },
	"AdminNetworkPolicy":            func() any { return &v1alpha1.AdminNetworkPolicy{} },
	"BaselineAdminNetworkPolicy":    func() any { return &v1alpha1.BaselineAdminNetworkPolicy{} },
	"CiliumNetworkPolicy":           func() any { return &CiliumNetworkPolicy{} },
	"StagedNetworkPolicy":           func() any { return &CalicoNetworkPolicy{} },
	"StagedKubernetesNetworkPolicy": func() any { return &StagedKubernetesNetworkPolicy{} },
	"Namespace":                     func() any { return &corev1.Namespace{} },
}

// strictBothWays decodes every object of data whose kind strictTypes
// knows with the direct decoder and with the JSON one, and fails where
// they disagree (the object, or whether and where there were errors). It
// returns how many objects it compared.
func strictBothWays(t *testing.T, name string, data []byte) int {
	t.Helper()
	compared := 0
	for i, root := range ParseDocuments(data).Roots {
		if root == nil {
			continue
		}
		d := &decoder{doc: i + 1}
		d.object(root, "", "", func(n *yaml.Node, apiVersion, kind string) {
			mk, ok := strictTypes[kind]
			if !ok {
				return
			}
			direct, viaJSON := mk(), mk()
			a, b := &decoder{doc: i + 1}, &decoder{doc: i + 1}
			okA, okB := a.strict(n, apiVersion, kind, direct), b.strictJSON(n, apiVersion, kind, viaJSON)
			compared++
			if okA != okB {
				t.Fatalf("%s: %s %s: direct decoded %v (%v), JSON %v (%v)", name, apiVersion, kind, okA, a.errs, okB, b.errs)
			}
			if !okA {
				// The direct decoder names every problem the JSON one
				// named at its field (it names more: a bad value of a
				// type that reads its own JSON, such as a timestamp,
				// is an error at the value, with the others, where the
				// JSON decoder stopped at the object).
				for _, e := range b.errs {
					de := e.(*DecodeError)
					if de.Line == n.Line && de.Column == n.Column && de.Field == "" {
						continue
					}
					if !slices.ContainsFunc(a.errs, func(x error) bool { return x.Error() == e.Error() }) {
						t.Fatalf("%s: %s: JSON decoder named %v, the direct one only %v", name, kind, e, a.errs)
					}
				}
				return
			}
			// A null is no value to the API server, and to the direct
			// decoder; encoding/json keeps it in a json.RawMessage.
			nullIsAbsent := cmp.Transformer("null", func(r json.RawMessage) json.RawMessage {
				if string(r) == "null" {
					return nil
				}
				return r
			})
			if diff := cmp.Diff(viaJSON, direct, nullIsAbsent); diff != "" {
				t.Fatalf("%s: %s %s: direct decoder differs from encoding/json (-json +direct):\n%s", name, apiVersion, kind, diff)
			}
		})
	}
	return compared
}

// TestStrictMatchesJSON: on every YAML file of the repository, the direct
// decoder gives the objects encoding/json gave.
func TestStrictMatchesJSON(t *testing.T) {
	compared := 0
	eachRepoYAML(t, func(p string, data []byte) {
		compared += strictBothWays(t, p, data)
	})
	if compared < 500 {
		t.Fatalf("only %d objects compared", compared)
	}
	t.Logf("%d objects decoded both ways, the same", compared)
}

// FuzzStrictMatchesJSON: the same on any input.
func FuzzStrictMatchesJSON(f *testing.F) {
	for _, c := range simpleCases {
		f.Add([]byte(c.in))
	}
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: a\n  creationTimestamp: null\n  labels: {a: b}\nspec:\n  podSelector: {}\n  ingress:\n  - ports:\n    - port: 80\n    - port: http\n      endPort: 90\n    from: []\n  - {}\n  egress: null\n"))
	f.Add([]byte("apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata:\n  name: a\nspec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [world]\n    toPorts:\n    - ports:\n      - port: \"443\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		strictBothWays(t, "input", data)
	})
}
