package schema

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

func pos(file string, line, col int) Pos { return Pos{File: file, Line: line, Column: col} }

func tcp(name string, port, end int32) Port {
	return Port{Name: name, Protocol: corev1.ProtocolTCP, Port: port, EndPort: end}
}

// TestParseValid compares whole resolved Specs, so a change in defaults,
// ordering or rule expansion shows up as a diff of typed values.
func TestParseValid(t *testing.T) {
	// testdata/valid/single: no project file, UTF-8 BOM and CRLF line ends.
	cart := &Service{Namespace: "shop", Name: "cart", Selector: map[string]string{"app": "cart"},
		Ports:  []Port{tcp("grpc", 7070, 0), {Name: "dns", Protocol: corev1.ProtocolUDP, Port: 53}},
		Source: pos("shop.yaml", 4, 3)}
	catalog := &Service{Namespace: "shop", Name: "catalog", Selector: map[string]string{"app": "catalog"},
		Ports: []Port{tcp("http", 8080, 0)}, Source: pos("shop.yaml", 9, 3)}
	single := &Spec{
		Namespaces: []*Namespace{{Name: "shop", Managed: true, IsolateIngress: true, IsolateEgress: true,
			Sources: []string{"shop.yaml"}, Services: []*Service{cart, catalog}}},
		Environments: []*Environment{{
			Plugin: PluginKubernetes, Mode: ModeEnforce,
			Name:     "",
			Services: []*Service{cart, catalog},
			Rules: []Rule{
				// The call and the callee's from describe one edge: each
				// rule is kept once, with the earlier source.
				{Service: cart, Direction: Egress, Peer: Peer{Kind: PeerService, Service: catalog}, Ports: []Port{tcp("http", 8080, 0)}, Source: pos("shop.yaml", 6, 13)},
				// selector: {} is every pod: a nil Selector, as documented.
				{Service: cart, Direction: Ingress, Peer: Peer{Kind: PeerSelector, Namespace: "monitoring"}, Ports: []Port{tcp("grpc", 7070, 0)}, Source: pos("shop.yaml", 8, 9)},
				{Service: catalog, Direction: Ingress, Peer: Peer{Kind: PeerService, Service: cart}, Ports: []Port{tcp("http", 8080, 0)}, Source: pos("shop.yaml", 6, 13)},
			},
			DNS: defaultDNS(),
		}},
	}

	// testdata/valid/environments: a project with per-environment cidr sets
	// and dns, services and entries limited to environments.
	api := &Service{Namespace: "shop", Name: "api", Selector: map[string]string{"app": "api", "tier": "backend"},
		Ports: []Port{tcp("range", 9000, 9010)}, Environments: []string{"prod"}, Source: pos("shop.yaml", 14, 3)}
	web := &Service{Namespace: "shop", Name: "web", Selector: map[string]string{"app": "web"},
		Ports: []Port{tcp("http", 8080, 0)}, Source: pos("shop.yaml", 5, 3)}
	corp := func(cidr string, except ...string) Peer {
		return Peer{Kind: PeerCIDR, CIDR: cidr, Except: except, CIDRName: "corp"}
	}
	monitoring := Rule{Service: web, Direction: Egress, Peer: Peer{Kind: PeerSelector, Namespace: "monitoring"}, Ports: []Port{tcp("", 9091, 0)}, Source: pos("shop.yaml", 10, 9)}
	world := Rule{Service: web, Direction: Ingress, Peer: Peer{Kind: PeerCIDR, CIDR: "0.0.0.0/0"}, Ports: []Port{tcp("http", 8080, 0)}, Source: pos("shop.yaml", 13, 9)}
	envs := &Spec{
		ProjectFile: "project.yaml",
		Namespaces: []*Namespace{{Name: "shop", Managed: true, IsolateIngress: true,
			Sources: []string{"shop.yaml"}, Services: []*Service{api, web}}},
		Environments: []*Environment{
			{
				Name:     "dev",
				Plugin:   PluginKubernetes,
				Mode:     ModeEnforce,
				Services: []*Service{web},
				Rules: []Rule{
					{Service: web, Direction: Egress, Peer: corp("10.8.0.0/16", "10.8.1.0/24"), AnyPort: true, Source: pos("shop.yaml", 9, 9)},
					{Service: web, Direction: Egress, Peer: corp("10.20.0.0/16"), AnyPort: true, Source: pos("shop.yaml", 9, 9)},
					monitoring,
					world,
				},
			},
			{
				Name:     "prod",
				Plugin:   PluginKubernetes,
				Mode:     ModeEnforce,
				Services: []*Service{api, web},
				Rules: []Rule{
					// One port of api's range, not the whole range.
					{Service: api, Direction: Ingress, Peer: Peer{Kind: PeerService, Service: web}, Ports: []Port{tcp("", 9005, 0)}, Source: pos("shop.yaml", 8, 9)},
					{Service: web, Direction: Egress, Peer: Peer{Kind: PeerService, Service: api}, Ports: []Port{tcp("", 9005, 0)}, Source: pos("shop.yaml", 8, 9)},
					{Service: web, Direction: Egress, Peer: corp("10.8.0.0/17", "10.8.1.0/24"), AnyPort: true, Source: pos("shop.yaml", 9, 9)},
					monitoring,
					{Service: web, Direction: Egress, Peer: Peer{Kind: PeerSelector, Namespace: "shop", Selector: map[string]string{"app": "cache"}}, Ports: []Port{tcp("", 6379, 0)}, Source: pos("shop.yaml", 11, 9)},
					world,
				},
				DNS: &DNS{Peers: []Peer{{Kind: PeerCIDR, CIDR: "169.254.20.10/32"}}, Ports: []Port{{Protocol: corev1.ProtocolUDP, Port: 53}}},
			},
		},
	}

	tests := []struct {
		name string
		want *Spec
	}{
		{"single", single},
		{"environments", envs},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, probs := Parse(caseFiles(t, filepath.Join("testdata", "valid", tc.name)))
			if len(probs.Errors()) > 0 {
				t.Fatalf("unexpected problems:\n%s", probs.Error())
			}
			// Warnings do not change the Spec; their texts are tested in
			// testdata/problems and the CLI catalogue.
			for _, w := range probs.Warnings() {
				if !strings.Contains(w.Message, "not marked as an edge") {
					t.Errorf("unexpected warning: %s", w)
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Spec mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestSpecEnvNames: the names come from the environments themselves, and
// only a run without a project file is implicit.
func TestSpecEnvNames(t *testing.T) {
	tests := []struct {
		name     string
		envs     []string
		want     []string
		implicit bool
	}{
		{"none", nil, []string{""}, true},
		{"implicit", []string{""}, []string{""}, true},
		{"declared", []string{"dev", "prod"}, []string{"dev", "prod"}, false},
		{"one declared", []string{"prod"}, []string{"prod"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Spec{}
			for _, e := range tc.envs {
				s.Environments = append(s.Environments, &Environment{Name: e})
			}
			if diff := cmp.Diff(tc.want, s.EnvNames()); diff != "" {
				t.Errorf("EnvNames (-want +got):\n%s", diff)
			}
			if got := s.Implicit(); got != tc.implicit {
				t.Errorf("Implicit() = %v, want %v", got, tc.implicit)
			}
		})
	}
}

// TestParseProductExample keeps the example of PRODUCT.md valid.
func TestParseProductExample(t *testing.T) {
	spec, probs := Parse(caseFiles(t, filepath.Join("testdata", "valid", "product")))
	if len(probs.Errors()) > 0 {
		t.Fatalf("unexpected problems:\n%s", probs.Error())
	}
	// The contract's frontend takes 0.0.0.0/0 without edge: true, which is
	// legal and worth the one warning.
	if w := probs.Warnings(); len(w) != 1 || !strings.Contains(w[0].Message, "not marked as an edge") {
		t.Errorf("want the one edge warning, got:\n%s", w.Error())
	}
	if got := spec.Environment("prod").DNS.Peers[0].CIDR; got != "169.254.20.10/32" {
		t.Errorf("prod dns = %s, want the NodeLocal DNSCache address", got)
	}
	var debugRules int
	for _, e := range spec.Environments {
		for _, r := range e.Rules {
			if r.Service.Name == "debug" || (r.Peer.Service != nil && r.Peer.Service.Name == "debug") {
				debugRules++
				if e.Name != "dev" {
					t.Errorf("debug rule in %s", e.Name)
				}
			}
		}
	}
	if debugRules != 2 {
		t.Errorf("got %d rules involving debug, want 2 (egress on frontend, ingress on debug)", debugRules)
	}
}

// TestParseOrderIndependent: the Spec must not depend on the order files
// arrive in (a directory walk, a git tree, a shuffled command line).
func TestParseOrderIndependent(t *testing.T) {
	files := caseFiles(t, filepath.Join("testdata", "valid", "product"))
	want, _ := Parse(files)
	rev := make([]File, len(files))
	for i, f := range files {
		rev[len(files)-1-i] = f
	}
	got, _ := Parse(rev)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Spec depends on file order (-want +got):\n%s", diff)
	}
}

// TestProblemsAcrossFiles: every problem of a run comes back at once, sorted
// by file and position, whichever order the files came in.
func TestProblemsAcrossFiles(t *testing.T) {
	files := []File{
		{Path: "z/deps.yaml", Explicit: true, Data: []byte("netdep: v1\nnamespace: z\nservices:\n  a: {calls: [nope]}\n")},
		{Path: "a/deps.yaml", Explicit: true, Data: []byte("netdep: v1\nnamespace: a\nservices:\n  b: {ports: {http: 0}}\n  c: {colls: []}\n")},
		{Path: "m/deps.yaml", Explicit: true, Data: []byte("netdep: v1\nnamespace: M\n")},
	}
	spec, probs := Parse(files)
	if spec != nil {
		t.Errorf("got a Spec despite errors")
	}
	want := strings.Join([]string{
		"a/deps.yaml:4:21: services.b.ports.http: port 0 out of range: expected 1 to 65535",
		"a/deps.yaml:5:7: services.c: unknown key \"colls\" (did you mean \"calls\"?)",
		"m/deps.yaml:2:12: namespace: invalid namespace \"M\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name', or '123-abc') (did you mean \"m\"?)",
		"z/deps.yaml:4:15: services.a.calls[0]: unknown service \"nope\" in namespace \"z\"; namespace \"z\" declares a",
	}, "\n")
	if got := probs.Error(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

// TestBillionLaughs: the classic document (aliases of aliases of lists) must
// fail fast and clearly wherever it is used, not expand.
func TestBillionLaughs(t *testing.T) {
	var b strings.Builder
	b.WriteString("netdep: v1\nnamespace: shop\nservices:\n  a:\n    selector: &a0 {x: y}\n")
	// Grow through merge keys, the one place where the decoder descends into
	// aliased mappings again and again.
	for i := 1; i <= 30; i++ {
		b.WriteString("  s" + strconv.Itoa(i) + ":\n    selector: &a" + strconv.Itoa(i) + " {<<: [*a" + strconv.Itoa(i-1) + ", *a" + strconv.Itoa(i-1) + "]}\n")
	}
	spec, probs := Parse([]File{{Path: "bomb.yaml", Data: []byte(b.String()), Explicit: true}})
	if spec != nil {
		t.Fatal("got a Spec")
	}
	if !strings.Contains(probs.Error(), "billion laughs") {
		t.Errorf("want the alias budget problem, got:\n%s", probs.Error())
	}
}

// TestEncodings: UTF-8 BOM and CRLF are what Windows editors write; UTF-16
// and Latin-1 are rejected with the position of the first bad byte.
func TestEncodings(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // "" for no problem
	}{
		{"bom-crlf", "\xef\xbb\xbfnetdep: v1\r\nnamespace: shop\r\nservices:\r\n  cart: {ports: {http: 8080}}\r\n", ""},
		{"latin1", "netdep: v1\nnamespace: shop\nservices:\n  caf\xe9: {}\n", "f.yaml:4:6: expected UTF-8 text, found a byte sequence that is not UTF-8; save the file as UTF-8"},
		{"utf16", "\xff\xfen\x00e\x00", "f.yaml:1:1: expected UTF-8 text, found UTF-16 (little-endian) (it starts with a UTF-16 byte order mark); save the file as UTF-8"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := Parse([]File{{Path: "f.yaml", Data: []byte(tc.data), Explicit: true}})
			if got := probs.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestDirectoryFileSkipping: files found in a directory that are not netdep
// files are skipped silently, including other YAML and templates that do not
// parse; a broken file that says netdep: is reported.
func TestDirectoryFileSkipping(t *testing.T) {
	tests := []struct {
		name, data string
		want       string
	}{
		{"manifest", "apiVersion: v1\nkind: ConfigMap\n", ""},
		{"helm-template", "{{ if .Values.x }}\nkind: {{ .Values.kind }}\n", ""},
		{"list", "- a\n- b\n", ""},
		{"empty", "", ""},
		{"broken-netdep", "netdep: v1\nnamespace: [\n", "f.yaml:2:12: invalid yaml: did not find expected node content (the [ here is not closed)"},
		{"marker-in-second-document", "kind: X\n---\nnetdep: v1\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := Parse([]File{{Path: "f.yaml", Data: []byte(tc.data)}})
			if got := probs.Error(); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
