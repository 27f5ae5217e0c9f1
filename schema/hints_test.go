package schema

import (
	"regexp"
	"strings"
	"testing"
)

// suggestion is a "did you mean ports: X?" hint.
var suggestion = regexp.MustCompile(`\(did you mean ports: ([^?]*)\?\)`)

// TestPortsHintsLoad: every ports value a message suggests loads where it
// is suggested. Advice that is itself a mistake (ports: any in dns, or
// ports: [http] on a call to a cidr) sends the user round in circles.
func TestPortsHintsLoad(t *testing.T) {
	const dep = "netdep: v1\nnamespace: shop\nservices:\n  a:\n    ports: {http: 80, https: 443, dns: 53/UDP}\n"
	const project = "netdep: v1\nenvironments: {dev: {}}\ncluster:\n  dns: {ports: PORTS}\n"
	tests := []struct {
		name, doc string
		project   bool
	}{
		{"call cidr number", dep + "    calls: [{cidr: 10.0.0.0/8, ports: PORTS}]\n", false},
		{"from cidr name", dep + "    from: [{cidr: 10.0.0.0/8, ports: PORTS}]\n", false},
		{"call raw peer", dep + "    calls: [{namespace: x, ports: PORTS}]\n", false},
		{"dns", project, true},
	}
	checked := 0
	for _, tt := range tests {
		for _, wrong := range []string{"443", "http", "any", "ANY", "[]", "[any]", "[ANY]", "53/UDP"} {
			files := func(ports string) []File {
				doc := strings.ReplaceAll(tt.doc, "PORTS", ports)
				fs := []File{{Path: "in.yaml", Data: []byte(doc), Explicit: true}}
				if tt.project {
					fs = append(fs, File{Path: "dep.yaml", Data: []byte(dep), Explicit: true})
				}
				return fs
			}
			_, probs := Parse(files(wrong))
			for _, p := range probs.Errors() {
				m := suggestion.FindStringSubmatch(p.Message)
				if m == nil {
					continue
				}
				checked++
				if _, again := Parse(files(m[1])); len(again.Errors()) > 0 {
					t.Errorf("%s, ports: %s: suggests ports: %s, which does not load:\n%s", tt.name, wrong, m[1], again.Errors())
				}
			}
		}
	}
	if checked < 4 {
		t.Errorf("only %d suggestions met; the messages no longer suggest ports values?", checked)
	}
}
