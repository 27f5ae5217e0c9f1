package diff

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestReviewAnnotations pins what the review adds to the flows: their
// lines, their risks, and the rename warning only where the selector
// follows the name.
func TestReviewAnnotations(t *testing.T) {
	const shop = "netdep: v1\nnamespace: shop\nservices:\n  web:\n    calls: [api:http]\n  api:\n    ports: {http: 8080}\n"
	cases := []struct {
		name      string
		base      string
		head      string
		sensitive []string
		added     []string // flow, sources, origin, risks
		removed   []string
		warnings  int
	}{
		{
			name:  "line of the call",
			base:  shop,
			head:  strings.Replace(shop, "calls: [api:http]", "calls: [api:http, {cidr: 203.0.113.0/24, ports: [443]}]", 1),
			added: []string{"shop/web -> 203.0.113.0/24 443/TCP [teams/shop.yaml:5:23]  [egress-external]"},
		},
		{
			name: "a from entry, external",
			base: shop,
			head: shop + "    from: [{cidr: 198.51.100.0/24, ports: [http]}]\n",
			added: []string{
				"198.51.100.0/24 -> shop/api 8080/TCP [teams/shop.yaml:8:12]  [external]",
			},
		},
		{
			name:      "cross-namespace into a sensitive namespace",
			base:      shop,
			head:      strings.Replace(shop, "calls: [api:http]", "calls: [api:http, {namespace: vault, ports: [8200]}]", 1),
			sensitive: []string{"vault"},
			added: []string{
				"shop/web -> vault/(unlabelled) 8200/TCP [teams/shop.yaml:5:23]  [cross-namespace sensitive]",
			},
		},
		{
			name:    "removed: the base's line",
			base:    strings.Replace(shop, "calls: [api:http]", "calls:\n      - api:http\n      - {cidr: 10.0.0.0/8, ports: [53]}", 1),
			head:    shop,
			removed: []string{"shop/web -> 10.0.0.0/8 53/TCP [teams/shop.yaml:7:9]  []"},
		},
		{
			name: "a port moved is one connection, changed",
			base: shop,
			head: strings.Replace(shop, "{http: 8080}", "{http: 8081}", 1),
			// Before and after: the same pair on both lists.
			added:   []string{"shop/web -> shop/api 8081/TCP [teams/shop.yaml:5:13]  []"},
			removed: []string{"shop/web -> shop/api 8080/TCP [teams/shop.yaml:5:13]  []"},
		},
		{
			name:     "renamed with the default selector",
			base:     shop,
			head:     strings.ReplaceAll(shop, "api", "backend"),
			added:    []string{"shop/web -> shop/backend 8080/TCP [teams/shop.yaml:5:13]  []"},
			removed:  []string{"shop/web -> shop/api 8080/TCP [teams/shop.yaml:5:13]  []"},
			warnings: 1,
		},
		{
			name:    "renamed, the selector kept",
			base:    shop,
			head:    strings.Replace(strings.ReplaceAll(shop, "api", "backend"), "  backend:\n", "  backend:\n    selector: {app: api}\n", 1),
			added:   nil, // the same pods: nothing changes
			removed: nil,
		},
	}
	str := func(fs []Flow) []string {
		var out []string
		for _, f := range fs {
			var src []string
			for _, p := range f.Sources {
				src = append(src, p.String())
			}
			var rs []string
			for _, r := range f.Risks {
				rs = append(rs, string(r))
			}
			out = append(out, f.From.String()+" -> "+f.To.String()+" "+PortsString(f.Ports)+" ["+strings.Join(src, " ")+"] "+f.Origin+" ["+strings.Join(rs, " ")+"]")
		}
		return out
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustGenerate(t, files("teams/shop.yaml", c.base))
			h := mustGenerate(t, files("teams/shop.yaml", c.head))
			r, err := compareRuns(b, h, Side{Ref: "base"}, WorkingTree)
			if err != nil {
				t.Fatal(err)
			}
			r.FlagRisks(c.sensitive)
			e := r.Environments[0]
			if d := cmp.Diff(c.added, str(e.FlowsAdded)); d != "" {
				t.Errorf("added (-want +got):\n%s", d)
			}
			if d := cmp.Diff(c.removed, str(e.FlowsRemoved)); d != "" {
				t.Errorf("removed (-want +got):\n%s", d)
			}
			changed, added, removed := flowLines(&e)
			if c.name == "a port moved is one connection, changed" {
				if len(changed) != 1 || len(added)+len(removed) != 0 || changed[0].portsText("->") != "8080/TCP -> 8081/TCP" {
					t.Errorf("shown: changed %+v, added %+v, removed %+v", changed, added, removed)
				}
			}
			if len(r.Warnings) != c.warnings {
				t.Errorf("warnings: %q, want %d", r.Warnings, c.warnings)
			}
		})
	}
}

// TestSensitiveFromProjectFile: the namespaces the head's project file
// marks sensitive in an environment flag new flows into them there, with
// no flag given, and only there.
func TestSensitiveFromProjectFile(t *testing.T) {
	const shop = "netdep: v1\nnamespace: shop\nservices:\n  api:\n    ports: {http: 8080}\n"
	const project = "netdep: v1\nenvironments:\n  dev: {}\n  prod:\n    sensitive: [shop]\n"
	opened := shop + "    from: [{namespace: batch, selector: {app: job}, ports: [http]}]\n"
	b := mustGenerate(t, files("netdep.yaml", project, "teams/shop.yaml", shop))
	h := mustGenerate(t, files("netdep.yaml", project, "teams/shop.yaml", opened))
	r, err := compareRuns(b, h, Side{Ref: "base"}, WorkingTree)
	if err != nil {
		t.Fatal(err)
	}
	r.FlagRisks(nil)
	got := map[string][]Risk{}
	for _, e := range r.Environments {
		if len(e.FlowsAdded) != 1 {
			t.Fatalf("%s: %d flows added, want 1", e.Name, len(e.FlowsAdded))
		}
		got[e.Name] = e.FlowsAdded[0].Risks
	}
	want := map[string][]Risk{"dev": {RiskCrossNamespace}, "prod": {RiskCrossNamespace, RiskSensitive}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("risks per environment (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"shop"}, r.Sensitive); d != "" {
		t.Errorf("Sensitive (-want +got):\n%s", d)
	}
}
