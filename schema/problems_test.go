package schema

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/netdep/netdep/tests/golden"
)

var update = golden.Update

// checkGolden compares got with the file at path, or rewrites it under
// -update (tests/golden).
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	golden.Check(t, path, []byte(got))
}

// caseFiles reads every input of a test case directory as explicitly named
// files, in name order; want.txt is the golden, not input.
func caseFiles(t *testing.T, dir string) []File {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var files []File
	for _, e := range entries {
		if e.IsDir() || e.Name() == "want.txt" {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, File{Path: e.Name(), Data: data, Explicit: true})
	}
	return files
}

// TestProblems holds one golden per validation rule: the input files of
// testdata/problems/<name>/ and the exact text netdep prints for them.
func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		rule string
	}{
		{"unknown-key", "unknown keys, with the closest known key or the list of keys"},
		{"wrong-type", "a value of the wrong type says what was expected and what was found"},
		{"duplicate-key", "duplicate keys name the first occurrence"},
		{"yaml-syntax", "yaml syntax errors keep yaml.v3's line"},
		{"top-level-list", "a file that is a yaml list"},
		{"empty-file", "an explicitly named file without any document"},
		{"non-utf8", "bytes that are not utf-8, located"},
		{"schema-version", "netdep other than v1, and a later document without the marker"},
		{"missing-namespace", "namespace is required"},
		{"invalid-names", "namespace and service names are dns-1123 labels"},
		{"reserved-name", "default-deny and allow-dns are reserved service names"},
		{"invalid-ports", "port numbers, ranges, protocols, iana names, duplicates"},
		{"unknown-service", "unknown services, with a hint"},
		{"unknown-namespace", "unknown namespaces, with a hint"},
		{"unknown-port", "unknown port names and numbers the target does not declare"},
		{"target-without-ports", "calls to, and from on, a service without ports"},
		{"invalid-cidr", "host bits, bare addresses, excepts outside or of another family"},
		{"cidr-set-without-project", "a named cidr set needs a project file"},
		{"unknown-cidr-set", "unknown sets, sets missing in an environment, excepts outside a set"},
		{"environments-without-project", "environments named without a project file"},
		{"unknown-environment", "unknown, duplicate and empty environment lists"},
		{"never-applies", "entries that leave no environment where both ends exist"},
		{"unmanaged-intents", "calls, from and isolate in an unmanaged namespace"},
		{"namespace-disagreement", "documents disagreeing on managed or isolate, naming both places"},
		{"duplicate-service", "the same service defined twice, naming both places"},
		{"selector-overlap", "a selector that is a subset of another service's labels"},
		{"missing-ports", "cidr and raw-peer calls need ports; from ports are the service's own"},
		{"invalid-isolate", "isolate values, duplicates and the empty list"},
		{"entry-forms", "mixed peer kinds, keys of another form, scalars of the wrong kind"},
		{"invalid-references", "malformed svc, ns/svc:port references"},
		{"invalid-selectors", "empty selectors and kubernetes label rules"},
		{"second-project", "at most one project document, naming both"},
		{"invalid-project", "project keys, dns forms, cidr sets, environment names"},
		{"no-environments", "a project document declares at least one environment"},
		{"alias-bomb", "nested merge aliases stop at the expansion budget"},
		{"guardrail-contradiction", "a deny guardrail over a declared edge names both places; overriddenBy must name a deny guardrail"},
		{"guardrail-invalid", "guardrail keys, names, priorities, cidrs; allowDomains is not supported yet"},
		{"sensitive-unknown", "sensitive namespaces a dependency file describes (the cluster's list once), a list of names"},
		{"exception-invalid", "exception keys, dates, names (dns-1123, unique), empty reason, warnDays"},
	}
	dirs, err := os.ReadDir(filepath.Join("testdata", "problems"))
	if err != nil {
		t.Fatal(err)
	}
	listed := map[string]bool{}
	for _, tc := range tests {
		listed[tc.name] = true
	}
	for _, d := range dirs {
		if !listed[d.Name()] {
			t.Errorf("testdata/problems/%s has no test case", d.Name())
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join("testdata", "problems", tc.name)
			spec, probs := Parse(caseFiles(t, dir))
			if len(probs.Errors()) == 0 {
				t.Fatalf("%s: no error reported", tc.rule)
			}
			if spec != nil {
				t.Errorf("Parse returned a Spec along with errors")
			}
			sorted := append(Problems(nil), probs...)
			sorted.Sort()
			if sorted.Error() != probs.Error() {
				t.Errorf("problems not sorted:\n%s", probs.Error())
			}
			checkGolden(t, filepath.Join(dir, "want.txt"), probs.Error()+"\n")
		})
	}
}

// TestCascades: what validation says about a field is dropped when the
// decoder reported that field's value, a value inside it, or an item of the
// list it names; a problem about anything else stays.
func TestCascades(t *testing.T) {
	tests := []struct {
		field, broken string
		want          bool
	}{
		{"isolate", "isolate", true},
		{"isolate", "isolate[1]", true},
		{"cluster.cidrs.vpn", "cluster.cidrs.vpn", true},
		{"services.a.calls[0].ports", "services.a.calls[0].ports[0]", true},
		{"services.a.calls[0].ports[1]", "services.a.calls[0]", true},
		// A selector's own validation covers every label.
		{"services.a.selector", "services.a.selector.app", false},
		// The service's own problems (its name, a duplicate) are not
		// about the value of one of its keys.
		{"services.a", "services.a.ports", false},
		{"services.a", "services.a.calls[0]", false},
		{"services.ab", "services.a", false},
		{"isolate[0]", "isolate[1]", false},
		{"services.a.calls", "services.a.calls[x]", false},
		{"services.a.ports", "services.a.ports.http", false},
	}
	for _, tt := range tests {
		if got := cascades(tt.field, tt.broken); got != tt.want {
			t.Errorf("cascades(%q, %q) = %v, want %v", tt.field, tt.broken, got, tt.want)
		}
	}
}

// TestClipValues: a quoted value longer than MaxEcho characters is cut to
// them and marked with its length; short values, text outside quotes and
// escapes are left as they are.
func TestClipValues(t *testing.T) {
	long := strings.Repeat("é", 100)
	tests := []struct{ in, want string }{
		{`unknown service "cart" in namespace "shop"`, `unknown service "cart" in namespace "shop"`},
		{`unknown service "` + long + `" in "shop"`, `unknown service "` + strings.Repeat("é", 80) + `"... (100 characters) in "shop"`},
		{`a ": " inside "` + strings.Repeat(`\"`, 90) + `"`, `a ": " inside "` + strings.Repeat(`\"`, 80) + `"... (90 characters)`},
		{`an unclosed "quote and more text ` + long, `an unclosed "quote and more text ` + long},
	}
	for _, tt := range tests {
		if got := clipValues(tt.in); got != tt.want {
			t.Errorf("clipValues(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
	p := Problem{Pos: Pos{File: "f.yaml", Line: 1, Column: 1}, Message: strings.Repeat("x", 5000)}
	if got := p.String(); utf8.RuneCountInString(got) > maxLine+40 || !strings.HasSuffix(got, "... (5012 characters)") {
		t.Errorf("a 5000-character message renders as %d characters: %q", len(got), got[len(got)-40:])
	}
}
