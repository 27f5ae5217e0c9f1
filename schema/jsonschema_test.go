package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/invopop/jsonschema"
	santhosh "github.com/santhosh-tekuri/jsonschema/v6"
	"gopkg.in/yaml.v3"
)

const schemaFile = "netdep.schema.json"

// Patterns of docs/reference.md, as JSON Schema (ECMA 262, without
// look-ahead so that Go's RE2 reads them too).
const (
	labelPattern   = `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
	protoPattern   = `/([Tt][Cc][Pp]|[Uu][Dd][Pp]|[Ss][Cc][Tt][Pp])`
	portNamePatten = `^([a-z0-9]+-)*[a-z0-9]*[a-z][a-z0-9]*(-[a-z0-9]+)*$`
)

func ref(name string) *jsonschema.Schema { return &jsonschema.Schema{Ref: "#/$defs/" + name} }

func u64(n uint64) *uint64 { return &n }

// jsonschemaForms are the schemas of the leaf and many-form types of
// jsonschema.go, by $defs name.
func jsonschemaForms() map[string]*jsonschema.Schema {
	labels := func(desc string, min uint64) *jsonschema.Schema {
		s := &jsonschema.Schema{
			Type:        "object",
			Description: desc,
			PropertyNames: &jsonschema.Schema{
				Pattern: `^(` + labelPattern + `(\.` + labelPattern + `)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`,
			},
			AdditionalProperties: &jsonschema.Schema{
				Description: "A label value (text as written: 2 and true are read as \"2\" and \"true\").",
				AnyOf:       []*jsonschema.Schema{{Type: "string"}, {Type: "number"}, {Type: "boolean"}},
			},
		}
		if min > 0 {
			s.MinProperties = u64(min)
		}
		return s
	}
	anyWord := &jsonschema.Schema{Const: "any", Description: "Every port of every protocol."}
	return map[string]*jsonschema.Schema{
		"Name": {Type: "string", Pattern: "^" + labelPattern + "$", MaxLength: u64(63),
			Description: "A DNS-1123 label: lower case letters, digits and -, starting and ending with a letter or digit, at most 63 characters."},
		"ServiceRef": {Type: "string",
			Pattern:     `^(` + labelPattern + `/)?` + labelPattern + `(:([1-9][0-9]*(` + protoPattern + `)?|[a-z0-9-]+))?$`,
			Description: "A service: svc (this namespace), ns/svc, optionally :port (a port name or number the target declares, a number optionally /TCP, /UDP or /SCTP).",
			Examples:    []any{"cart", "cart:grpc", "payments/gateway:8443"}},
		"CIDR": {Type: "string",
			Pattern:     `^([0-9a-fA-F.:]+/[0-9]{1,3}|` + labelPattern + `)$`,
			Description: "A CIDR with no host bits set (10.0.0.0/8, 2001:db8::/32) or the name of a cidr set the project file defines."},
		"Host": {Type: "string",
			Pattern:     `^(\*\.)?` + labelPattern + `(\.` + labelPattern + `)+$`,
			MaxLength:   u64(maxHostLength),
			Description: "A DNS name in lower case of at least two labels, without a trailing dot (api.stripe.com), or *.<name> (*.googleapis.com): the * is the whole leftmost label and stands for exactly one label.",
			Examples:    []any{"api.stripe.com", "*.googleapis.com"}},
		"PortValue": {
			Description: "A port: 8080 (TCP), \"53/UDP\", \"9000-9100\" or \"9000-9100/TCP\". Ports are 1-65535; protocols TCP, UDP or SCTP.",
			AnyOf: []*jsonschema.Schema{
				{Type: "integer", Minimum: "1", Maximum: "65535"},
				{Type: "string", Pattern: `^[1-9][0-9]*(-[1-9][0-9]*)?(` + protoPattern + `)?$`},
			}},
		"PortName": {Type: "string", Pattern: portNamePatten, MaxLength: u64(15),
			Description: "A port name (an IANA service name as Kubernetes validates it): lower case letters, digits and single hyphens, at least one letter, at most 15 characters."},
		"CallPorts": {
			Description: "Port values, or the word any for every port.",
			AnyOf: []*jsonschema.Schema{anyWord,
				{Type: "array", Items: ref("PortValue"), MinItems: u64(1)}},
		},
		"FromPorts": {
			Description: "This service's own ports, by name or number; or the word any for every port, declared or not.",
			AnyOf: []*jsonschema.Schema{anyWord,
				{Type: "array", MinItems: u64(1), Items: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{ref("PortValue"), ref("PortName")}}}},
		},
		"Selector":     labels("Pod labels (matchLabels); at least one. Keys and values follow Kubernetes label rules.", 1),
		"PeerSelector": labels("Pod labels (matchLabels); {} for every pod of the namespace.", 0),
		"Environments": {Type: "array", Items: ref("Name"), MinItems: u64(1), UniqueItems: true,
			Description: "Environment names the project file declares; not empty, no duplicates."},
		"Call": {
			Description: "One egress intent: a service reference string, or a mapping with to, host, cidr, or namespace/selector.",
			AnyOf:       []*jsonschema.Schema{ref("ServiceRef"), ref("CallTo"), ref("HostCall"), ref("CIDRCall"), ref("RawCall")},
		},
		"From": {
			Description: "One ingress intent: a service reference string, or a mapping with from, cidr, or namespace/selector.",
			AnyOf:       []*jsonschema.Schema{ref("ServiceRef"), ref("FromRef"), ref("CIDRFrom"), ref("RawFrom")},
		},
		"DNS": {
			Description: "Where pods resolve names: false (no allow-dns policies), true (the default), DNS pods or DNS addresses.",
			AnyOf:       []*jsonschema.Schema{{Type: "boolean"}, ref("DNSPods"), ref("DNSCIDR")},
		},
	}
}

// generateJSONSchema reflects the types of jsonschema.go into the schema of a
// netdep document.
func generateJSONSchema(t *testing.T) []byte {
	t.Helper()
	forms := jsonschemaForms()
	name := func(t reflect.Type) string { return strings.TrimSuffix(t.Name(), "Doc") }
	r := &jsonschema.Reflector{
		Anonymous: true,
		Namer:     name,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if _, ok := forms[name(t)]; ok && t.PkgPath() == reflect.TypeOf(DependencyDoc{}).PkgPath() {
				return ref(name(t))
			}
			return nil
		},
	}
	// One reflection over a holder reaches every type, so all land in $defs.
	type holder struct {
		A DependencyDoc
		B ProjectDoc
		C CallToDoc
		K HostCallDoc
		D CIDRCallDoc
		E RawCallDoc
		F FromRefDoc
		G CIDRFromDoc
		H RawFromDoc
		I DNSPodsDoc
		J DNSCIDRDoc
	}
	s := r.Reflect(holder{})
	delete(s.Definitions, "holder")
	for k, v := range forms {
		s.Definitions[k] = v
	}
	// Maps: key patterns, and values that may be left empty (null).
	nullable := func(name string) *jsonschema.Schema {
		return &jsonschema.Schema{AnyOf: []*jsonschema.Schema{ref(name), {Type: "null"}}}
	}
	s.Definitions["Services"].PropertyNames = ref("Name")
	s.Definitions["Services"].AdditionalProperties = nullable("Service")
	s.Definitions["EnvSettings"].PropertyNames = ref("Name")
	s.Definitions["EnvSettings"].MinProperties = u64(1)
	s.Definitions["EnvSettings"].AdditionalProperties = nullable("Settings")
	s.Definitions["Ports"].PropertyNames = ref("PortName")
	s.Definitions["Ports"].AdditionalProperties = ref("PortValue")
	s.Definitions["CIDRSets"].PropertyNames = ref("Name")
	s.Definitions["CIDRSets"].AdditionalProperties = &jsonschema.Schema{Type: "array", Items: ref("CIDR"), MinItems: u64(1)}
	s.Definitions["Hosts"].PropertyNames = ref("Host")
	s.Definitions["Hosts"].AdditionalProperties = &jsonschema.Schema{Type: "array", Items: ref("CIDR"), MinItems: u64(1)}
	s.Definitions["DNSCIDR"].Properties.Value("cidr").AnyOf = []*jsonschema.Schema{ref("CIDR"), {Type: "array", Items: ref("CIDR"), MinItems: u64(1)}}

	// A document is a project document when it has environments or cluster
	// (docs/reference.md), a dependency document otherwise.
	root := &jsonschema.Schema{
		Version:     jsonschema.Version,
		ID:          "https://github.com/netdep/netdep/schema/netdep.schema.json",
		Title:       "netdep file (schema v1)",
		Description: "A netdep dependency document (the services of one namespace: their ports, calls and callers) or project document (environments and cluster settings). Reference: docs/reference.md.",
		If: &jsonschema.Schema{AnyOf: []*jsonschema.Schema{
			{Required: []string{"environments"}}, {Required: []string{"cluster"}},
		}},
		Then:        ref("Project"),
		Else:        ref("Dependency"),
		Definitions: s.Definitions,
	}
	b, err := json.MarshalIndent(root, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestJSONSchema: netdep.schema.json is what the types of jsonschema.go
// generate (go test -run TestJSONSchema -update, or go generate ./schema),
// and every field has a description.
func TestJSONSchema(t *testing.T) {
	got := generateJSONSchema(t)
	if *update {
		if err := os.WriteFile(schemaFile, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(schemaFile)
	if err != nil {
		t.Fatalf("%v (run go generate ./schema)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s is stale: run go generate ./schema (or go test ./schema -run TestJSONSchema -update)", schemaFile)
	}
	var doc struct {
		Defs map[string]struct {
			Description string
			Properties  map[string]struct{ Description string }
		} `json:"$defs"`
	}
	if err := json.Unmarshal(got, &doc); err != nil {
		t.Fatal(err)
	}
	for name, d := range doc.Defs {
		for p, prop := range d.Properties {
			if prop.Description == "" {
				t.Errorf("$defs.%s.properties.%s has no description", name, p)
			}
		}
	}
}

func compileSchema(t *testing.T) *santhosh.Schema {
	t.Helper()
	f, err := os.Open(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := santhosh.UnmarshalJSON(f)
	if err != nil {
		t.Fatal(err)
	}
	c := santhosh.NewCompiler()
	if err := c.AddResource(schemaFile, doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// yamlDocs decodes every document of a YAML file into JSON-like values.
func yamlDocs(t *testing.T, data []byte) []any {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var out []any
	for {
		var v any
		if err := dec.Decode(&v); err != nil {
			if errors.Is(err, io.EOF) {
				return out
			}
			t.Fatal(err)
		}
		if v != nil {
			out = append(out, jsonValue(v))
		}
	}
}

// jsonValue turns yaml.v3's values into what a JSON decoder yields, as
// editors see YAML: map[string]any and json numbers.
func jsonValue(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonValue(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = jsonValue(e)
		}
		return x
	case int:
		return json.Number(strconv.Itoa(x))
	case float64:
		return json.Number(strconv.FormatFloat(x, 'g', -1, 64))
	case time.Time:
		// An unquoted 2026-12-31 (an exception's expires) is a YAML
		// timestamp to yaml.v3 and a string to JSON-minded editors.
		return x.Format(time.DateOnly)
	}
	return v
}

// TestExamplesMatchJSONSchema: every netdep file of the examples (and of the
// init scaffolds) validates, and carries the modeline pointing at the schema.
func TestExamplesMatchJSONSchema(t *testing.T) {
	sch := compileSchema(t)
	var files []string
	for _, root := range []string{filepath.Join("..", "examples")} {
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && d.Name() == "netpol" {
				return filepath.SkipDir
			}
			if !d.IsDir() && (strings.HasSuffix(p, ".yaml") || strings.HasSuffix(p, ".yml")) {
				files = append(files, p)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// init's scaffolds (their modeline is a URL: they live anywhere).
	scaffolds, _ := filepath.Glob(filepath.Join("..", "tests", "testdata", "ergonomics", "init-*", "*", "*.golden"))
	more, _ := filepath.Glob(filepath.Join("..", "tests", "testdata", "ergonomics", "init-*", "*.golden"))
	for _, f := range append(scaffolds, more...) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range yamlDocs(t, data) {
			if err := sch.Validate(doc); err != nil {
				t.Errorf("%s: document %d: %v", f, i+1, err)
			}
		}
	}
	if len(scaffolds)+len(more) == 0 {
		t.Errorf("no init scaffolds found under tests/testdata/ergonomics")
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !isNetdepFile(data) {
			continue
		}
		t.Run(filepath.ToSlash(f), func(t *testing.T) {
			for i, doc := range yamlDocs(t, data) {
				if err := sch.Validate(doc); err != nil {
					t.Errorf("document %d: %v", i+1, err)
				}
			}
			first, _, _ := strings.Cut(string(data), "\n")
			if want := modeline(t, f); first != want {
				t.Errorf("first line is %q, want %q: editors validate and complete netdep files with it", first, want)
			}
		})
	}
}

// modeline is the yaml-language-server comment that points file at the
// schema, by a path relative to the file.
func modeline(t *testing.T, file string) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Dir(file))
	if err != nil {
		t.Fatal(err)
	}
	target, err := filepath.Abs(schemaFile)
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(dir, target)
	if err != nil {
		t.Fatal(err)
	}
	return "# yaml-language-server: $schema=" + filepath.ToSlash(rel)
}

// TestJSONSchemaForms: the schema accepts the forms docs/reference.md allows
// and rejects the shapes the loader rejects, so an editor flags what
// netdep generate would.
func TestJSONSchemaForms(t *testing.T) {
	sch := compileSchema(t)
	const dep = "netdep: v1\nnamespace: shop\n"
	for _, tc := range []struct {
		name string
		doc  string
		ok   bool
	}{
		{"minimal dependency", dep, true},
		{"service with defaults", dep + "services: {cart: }", true},
		{"call strings", dep + "services: {a: {calls: [b, 'b:grpc', 'ns/b', 'ns/b:8443', 'ns/b:53/UDP']}}", true},
		{"call mappings", dep + `services: {a: {calls: [
  {to: b, environments: [dev]},
  {cidr: 203.0.113.0/24, except: [203.0.113.8/29], ports: [443, "53/UDP", "9000-9100/TCP"]},
  {cidr: corp-vpn, ports: any},
  {namespace: monitoring, selector: {app: pushgateway}, ports: [9091]},
  {selector: {}, ports: [80]}]}}`, true},
		{"from forms", dep + `services: {a: {ports: {http: 8080}, from: [
  ingress-nginx/controller:http, {from: b, environments: [prod]},
  {cidr: 0.0.0.0/0, ports: [http]}, {cidr: 10.0.0.0/8},
  {namespace: monitoring, selector: {app: prometheus}, ports: any}]}}`, true},
		{"port values", dep + `services: {a: {ports: {http: 8080, dns: 53/UDP, range: 9000-9100/TCP, lower: 1-2/sctp, text: "8080"}}}`, true},
		{"labels as written", dep + "services: {a: {selector: {app: a, version: 2, canary: true, app.kubernetes.io/name: a}}}", true},
		{"unmanaged", "netdep: v1\nnamespace: monitoring\nmanaged: false\nservices: {prometheus: {selector: {app.kubernetes.io/name: prometheus}}}", true},
		{"isolate ingress", dep + "isolate: [ingress]", true},
		{"project", "netdep: v1\ncluster: {dns: {namespace: kube-system, selector: {k8s-app: kube-dns}, ports: [53/UDP, 53/TCP]}, cidrs: {corp-vpn: [10.8.0.0/16]}}\nenvironments: {dev: {}, prod: {dns: {cidr: 169.254.20.10/32, ports: [53/UDP]}}, qa: }", true},
		{"dns false", "netdep: v1\nenvironments: {dev: {dns: false}}", true},
		{"dns true", "netdep: v1\nenvironments: {dev: {dns: true}}", true},
		{"dns cidr list", "netdep: v1\nenvironments: {dev: {dns: {cidr: [10.0.0.10/32, 10.0.0.11/32]}}}", true},
		{"dns namespace alone", "netdep: v1\nenvironments: {dev: {dns: {namespace: dns}}}", true},
		{"host calls", dep + `services: {a: {calls: [{host: api.stripe.com, ports: [443]}, {host: "*.googleapis.com", ports: any, environments: [prod]}]}}`, true},
		{"plugins", "netdep: v1\ncluster: {plugin: calico, mode: audit, log: denied, hosts: {api.stripe.com: [203.0.113.10/32], \"*.googleapis.com\": [198.51.100.0/24]}}\nenvironments: {prod: {plugin: cilium, mode: enforce, log: none}, staging: {plugin: kubernetes}}", true},

		{"no marker", "namespace: shop\n", false},
		{"wrong version", "netdep: v2\nnamespace: shop\n", false},
		{"no namespace", "netdep: v1\nservices: {}\n", false},
		{"unknown key", dep + "servces: {}\n", false},
		{"bad namespace", "netdep: v1\nnamespace: Shop\n", false},
		{"empty isolate", dep + "isolate: []", false},
		{"unknown direction", dep + "isolate: [both]", false},
		{"port zero", dep + "services: {a: {ports: {http: 0}}}", false},
		{"port too big", dep + "services: {a: {ports: {http: 70000}}}", false},
		{"unknown protocol", dep + "services: {a: {ports: {http: 53/ICMP}}}", false},
		{"bad port name", dep + "services: {a: {ports: {HTTP: 80}}}", false},
		{"call not a string", dep + "services: {a: {calls: [42]}}", false},
		{"cidr without ports", dep + "services: {a: {calls: [{cidr: 10.0.0.0/8}]}}", false},
		{"ports all", dep + "services: {a: {calls: [{cidr: 10.0.0.0/8, ports: all}]}}", false},
		{"to and cidr", dep + "services: {a: {calls: [{to: b, cidr: 10.0.0.0/8, ports: any}]}}", false},
		{"cidr and namespace", dep + "services: {a: {calls: [{cidr: 10.0.0.0/8, namespace: x, ports: any}]}}", false},
		{"ports alone", dep + "services: {a: {calls: [{ports: [80]}]}}", false},
		{"empty environments", dep + "services: {a: {environments: []}}", false},
		{"duplicate environment", dep + "services: {a: {environments: [dev, dev]}}", false},
		{"empty selector", dep + "services: {a: {selector: {}}}", false},
		{"no environments", "netdep: v1\ncluster: {}\n", false},
		{"zero environments", "netdep: v1\nenvironments: {}\n", false},
		{"dns word", "netdep: v1\nenvironments: {dev: {dns: off}}", false},
		{"dns cidr and namespace", "netdep: v1\nenvironments: {dev: {dns: {cidr: 10.0.0.10/32, namespace: kube-system}}}", false},
		{"project with namespace", "netdep: v1\nnamespace: shop\nenvironments: {dev: {}}", false},
		{"host without ports", dep + "services: {a: {calls: [{host: api.stripe.com}]}}", false},
		{"host upper case", dep + "services: {a: {calls: [{host: Api.Stripe.com, ports: [443]}]}}", false},
		{"host single label", dep + "services: {a: {calls: [{host: stripe, ports: [443]}]}}", false},
		{"host inner wildcard", dep + `services: {a: {calls: [{host: "x.*.com", ports: [443]}]}}`, false},
		{"host bare wildcard", dep + `services: {a: {calls: [{host: "*", ports: [443]}]}}`, false},
		{"host trailing dot", dep + "services: {a: {calls: [{host: api.stripe.com., ports: [443]}]}}", false},
		{"host and cidr", dep + "services: {a: {calls: [{host: api.stripe.com, cidr: 10.0.0.0/8, ports: [443]}]}}", false},
		{"host in from", dep + "services: {a: {ports: {http: 80}, from: [{host: api.stripe.com}]}}", false},
		{"unknown plugin", "netdep: v1\nenvironments: {dev: {plugin: cillium}}", false},
		{"unknown mode", "netdep: v1\nenvironments: {dev: {mode: staged}}", false},
		{"log boolean", "netdep: v1\nenvironments: {dev: {log: false}}", false},
		{"hosts empty list", "netdep: v1\nenvironments: {dev: {hosts: {api.stripe.com: []}}}", false},
		{"hosts bad key", "netdep: v1\nenvironments: {dev: {hosts: {API.stripe.com: [10.0.0.1/32]}}}", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			docs := yamlDocs(t, []byte(tc.doc))
			if len(docs) != 1 {
				t.Fatalf("%d documents", len(docs))
			}
			err := sch.Validate(docs[0])
			if tc.ok && err != nil {
				t.Errorf("rejected: %v", err)
			}
			if !tc.ok && err == nil {
				t.Errorf("accepted")
			}
			// What the schema rejects, the loader rejects too. (The
			// reverse does not hold: references and environments are
			// checked across files, beyond any schema.)
			_, probs := Parse([]File{{Path: "x.yaml", Data: []byte(tc.doc), Explicit: true}})
			if !tc.ok && len(probs.Errors()) == 0 {
				t.Errorf("the loader accepts what the schema rejects")
			}
		})
	}
}
