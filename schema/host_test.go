package schema

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
)

// TestCheckHost: the names a host: (and a hosts: key) accepts, and for
// each refused spelling the reason the message gives.
func TestCheckHost(t *testing.T) {
	for _, tc := range []struct {
		host string
		want string // a part of the message; "" for a valid host
	}{
		{"api.stripe.com", ""},
		{"*.googleapis.com", ""},
		{"a.b", ""},
		{"xn--bcher-kva.example", ""},
		{"1password.com", ""},
		{"a-b.c-d.example", ""},
		{strings.Repeat("a", 63) + ".com", ""},
		{"", "empty string"},
		{"*", "a wildcard needs the domain"},
		{"*.com", "directly under a top-level domain"},
		{"a*.x.com", "only allowed as the whole leftmost label"},
		{"x.*.com", "only allowed as the whole leftmost label"},
		{"*.*.x.com", "only allowed as the whole leftmost label"},
		{"**.x.com", "only allowed as the whole leftmost label"},
		{"API.Stripe.com", `expected lower case`},
		{"*.GoogleAPIs.com", `(write "*.googleapis.com")`},
		{"api.stripe.com.", "expected no trailing dot"},
		{"203.0.113.10", "{cidr: 203.0.113.10/32"},
		{"2001:db8::1", "{cidr: 2001:db8::1/128"},
		{"[2001:db8::1]", "an IP address is not a host name"},
		{"10.0.0.0/8", "a cidr is not a host name"},
		{"1.2.3", "not all digits"},
		{"stripe", "at least two labels"},
		{"api_v2.stripe.com", `contains '_'`},
		{"-api.stripe.com", "starts or ends with '-'"},
		{"api-.stripe.com", "starts or ends with '-'"},
		{"api..stripe.com", "empty one"},
		{".stripe.com", "empty one"},
		{"api stripe.com", `contains ' '`},
		{"bücher.example", `contains 'ü'`},
		{strings.Repeat("a", 64) + ".com", "longer than 63"},
		{strings.Repeat("abcdefghi.", 26) + "com", "at most 253 characters"},
		{"https://api.stripe.com", "contains ':'"},
		{"api.stripe.com:443", "contains ':'"},
	} {
		got := checkHost(tc.host)
		switch {
		case tc.want == "" && got != "":
			t.Errorf("checkHost(%q) = %q, want valid", tc.host, got)
		case tc.want != "" && !strings.Contains(got, tc.want):
			t.Errorf("checkHost(%q) = %q, want a message containing %q", tc.host, got, tc.want)
		}
	}
}

// TestHostEntries: host calls as the loader reads them, valid and invalid,
// through Parse; each invalid entry is one error at its field.
func TestHostEntries(t *testing.T) {
	const dep = "netdep: v1\nnamespace: pay\nservices:\n  api:\n    ports: {http: 8080}\n    calls:\n      - "
	const cilium = "netdep: v1\ncluster: {plugin: cilium}\nenvironments: {prod: {}}\n"
	for _, tc := range []struct {
		name  string
		entry string
		field string // the error's field; "" for a valid entry
		want  string // a part of the message
	}{
		{"name", "{host: api.stripe.com, ports: [443]}", "", ""},
		{"wildcard", `{host: "*.googleapis.com", ports: [443, 8443/TCP]}`, "", ""},
		{"any port", "{host: api.stripe.com, ports: any}", "", ""},
		{"range", "{host: api.stripe.com, ports: [9000-9100/UDP]}", "", ""},
		{"environments", "{host: api.stripe.com, ports: [443], environments: [prod]}", "", ""},
		{"exception", "{host: api.stripe.com, ports: [443], exception: {name: inc-1, reason: r, owner: o, expires: 2030-01-01}}", "", ""},
		{"upper case", "{host: Api.Stripe.Com, ports: [443]}", "services.api.calls[0].host", "expected lower case"},
		{"ip literal", "{host: 203.0.113.10, ports: [443]}", "services.api.calls[0].host", "{cidr: 203.0.113.10/32"},
		{"bare star", `{host: "*", ports: [443]}`, "services.api.calls[0].host", "a wildcard needs"},
		{"inner star", `{host: "x.*.com", ports: [443]}`, "services.api.calls[0].host", "leftmost label"},
		{"no ports", "{host: api.stripe.com}", "services.api.calls[0].ports", "missing"},
		{"empty ports", "{host: api.stripe.com, ports: []}", "services.api.calls[0].ports", "at least one port"},
		{"port name", "{host: api.stripe.com, ports: [https]}", "services.api.calls[0].ports[0]", "found the name"},
		{"not a string", "{host: [api.stripe.com], ports: [443]}", "services.api.calls[0].host", "expected a host name"},
		{"with cidr", "{host: api.stripe.com, cidr: 10.0.0.0/8, ports: [443]}", "services.api.calls[0]", "found host together with cidr"},
		{"with to", "{to: web, host: api.stripe.com}", "services.api.calls[0]", "found to together with host"},
		{"with selector", "{host: api.stripe.com, selector: {app: x}, ports: [443]}", "services.api.calls[0]", "found host together with selector"},
		{"except", "{host: api.stripe.com, except: [10.0.0.0/8], ports: [443]}", "services.api.calls[0]", `unknown key "except" for this kind of peer`},
		{"unknown environment", "{host: api.stripe.com, ports: [443], environments: [dev]}", "services.api.calls[0].environments[0]", `unknown environment "dev"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, probs := Parse([]File{
				{Path: "deps.yaml", Data: []byte(dep + tc.entry + "\n"), Explicit: true},
				{Path: "netdep.yaml", Data: []byte(cilium), Explicit: true},
			})
			errs := probs.Errors()
			if tc.field == "" {
				if len(errs) > 0 {
					t.Fatalf("unexpected errors:\n%s", errs.Error())
				}
				return
			}
			if len(errs) != 1 || errs[0].Field != tc.field || !strings.Contains(errs[0].Message, tc.want) {
				t.Fatalf("want one error at %s containing %q, got:\n%s", tc.field, tc.want, probs.Error())
			}
		})
	}
	// from cannot name a host, whatever else the entry holds.
	for _, entry := range []string{"{host: api.stripe.com}", "{host: api.stripe.com, cidr: 10.0.0.0/8, ports: [http]}", "{host: API.stripe.com, bogus: 1}"} {
		doc := "netdep: v1\nnamespace: pay\nservices:\n  api:\n    ports: {http: 8080}\n    from:\n      - " + entry + "\n"
		_, probs := Parse([]File{{Path: "deps.yaml", Data: []byte(doc), Explicit: true}})
		errs := probs.Errors()
		if len(errs) != 1 || errs[0].Field != "services.api.from[0].host" || !strings.Contains(errs[0].Message, "a from entry cannot name a host") {
			t.Errorf("from %s: want one error at the host key, got:\n%s", entry, probs.Error())
		}
	}
}

// TestHostResolution: the design's steps per environment. A pin wins on
// every plugin (PeerCIDR rules, one per pinned block, naming the host); on
// cilium an unpinned host is a PeerHost rule; an environment's hosts:
// entry replaces the cluster's of the same name; plugin, mode and log
// default to kubernetes, enforce and off, and an environment's replace
// the cluster's.
func TestHostResolution(t *testing.T) {
	project := `netdep: v1
cluster:
  plugin: cilium
  log: denied
  hosts:
    api.stripe.com: [203.0.113.10/32, 198.51.100.0/24, 203.0.113.10/32]
    "*.googleapis.com": ["2001:db8::/32"]
environments:
  prod: {}
  staging:
    plugin: kubernetes
    log: none
    hosts: {api.stripe.com: [192.0.2.8/29]}
  dev:
    plugin: calico
    mode: audit
    log: denied
  edge:
    mode: audit
    hosts: {api.stripe.com: [192.0.2.16/28]}
`
	deps := `netdep: v1
namespace: pay
services:
  api:
    ports: {http: 8080}
    calls:
      - {host: api.stripe.com, ports: [443]}
      - {host: "*.googleapis.com", ports: any}
      - {host: hooks.example.com, ports: [443], environments: [prod, edge]}
`
	spec, probs := Parse([]File{
		{Path: "deps.yaml", Data: []byte(deps), Explicit: true},
		{Path: "netdep.yaml", Data: []byte(project), Explicit: true},
	})
	if len(probs) > 0 {
		t.Fatalf("unexpected problems:\n%s", probs.Error())
	}
	type got struct {
		Plugin    Plugin
		Mode      Mode
		LogDenied bool
		Hosts     []PinnedHost
		Peers     []Peer
	}
	summary := func(e *Environment) got {
		g := got{Plugin: e.Plugin, Mode: e.Mode, LogDenied: e.LogDenied, Hosts: e.Hosts}
		for _, r := range e.Rules {
			if r.Direction != Egress {
				t.Errorf("%s: a host rule of direction %s", e.Name, r.Direction)
			}
			g.Peers = append(g.Peers, r.Peer)
		}
		return g
	}
	googlePin := PinnedHost{Name: "*.googleapis.com", CIDRs: []string{"2001:db8::/32"}, Source: pos("netdep.yaml", 7, 5)}
	clusterStripe := PinnedHost{Name: "api.stripe.com", CIDRs: []string{"198.51.100.0/24", "203.0.113.10/32"}, Source: pos("netdep.yaml", 6, 5)}
	google := Peer{Kind: PeerCIDR, CIDR: "2001:db8::/32", Host: "*.googleapis.com"}
	want := map[string]got{
		"prod": {PluginCilium, ModeEnforce, true, []PinnedHost{googlePin, clusterStripe}, []Peer{
			{Kind: PeerCIDR, CIDR: "198.51.100.0/24", Host: "api.stripe.com"},
			{Kind: PeerCIDR, CIDR: "203.0.113.10/32", Host: "api.stripe.com"},
			google,
			{Kind: PeerHost, Host: "hooks.example.com"},
		}},
		"staging": {PluginKubernetes, ModeEnforce, false, []PinnedHost{googlePin, {Name: "api.stripe.com", CIDRs: []string{"192.0.2.8/29"}, Source: pos("netdep.yaml", 13, 13)}}, []Peer{
			{Kind: PeerCIDR, CIDR: "192.0.2.8/29", Host: "api.stripe.com"},
			google,
		}},
		"dev": {PluginCalico, ModeAudit, true, []PinnedHost{googlePin, clusterStripe}, []Peer{
			{Kind: PeerCIDR, CIDR: "198.51.100.0/24", Host: "api.stripe.com"},
			{Kind: PeerCIDR, CIDR: "203.0.113.10/32", Host: "api.stripe.com"},
			google,
		}},
		"edge": {PluginCilium, ModeAudit, true, []PinnedHost{googlePin, {Name: "api.stripe.com", CIDRs: []string{"192.0.2.16/28"}, Source: pos("netdep.yaml", 20, 13)}}, []Peer{
			{Kind: PeerCIDR, CIDR: "192.0.2.16/28", Host: "api.stripe.com"},
			google,
			{Kind: PeerHost, Host: "hooks.example.com"},
		}},
	}
	for name, w := range want {
		e := spec.Environment(name)
		if e == nil {
			t.Fatalf("no environment %s", name)
		}
		if d := cmp.Diff(w, summary(e)); d != "" {
			t.Errorf("%s (-want +got):\n%s", name, d)
		}
	}
	// Ports and sources go with every rule of an entry.
	prod := spec.Environment("prod")
	for _, r := range prod.Rules {
		switch r.Peer.Host {
		case "api.stripe.com", "hooks.example.com":
			if d := cmp.Diff([]Port{{Protocol: corev1.ProtocolTCP, Port: 443}}, r.Ports); d != "" || r.AnyPort {
				t.Errorf("%s: ports (-want +got):\n%s", r.Peer.Host, d)
			}
		case "*.googleapis.com":
			if !r.AnyPort || len(r.Ports) != 0 {
				t.Errorf("*.googleapis.com: want ports: any, got %v %v", r.AnyPort, r.Ports)
			}
		}
	}
	if pinned := prod.Pinned("api.stripe.com"); len(pinned) != 2 {
		t.Errorf("Pinned(api.stripe.com) = %v", pinned)
	}
	if prod.Pinned("hooks.example.com") != nil {
		t.Errorf("hooks.example.com is not pinned in prod")
	}
}

// TestHostResolutionWithoutProject: without a project file the implicit
// environment is kubernetes in enforce mode, and a host call has no pin.
func TestHostResolutionWithoutProject(t *testing.T) {
	spec, probs := Parse([]File{{Path: "deps.yaml", Data: []byte("netdep: v1\nnamespace: pay\nservices:\n  api: {ports: {http: 8080}}\n"), Explicit: true}})
	if len(probs) > 0 {
		t.Fatal(probs.Error())
	}
	if e := spec.Environments[0]; e.Plugin != PluginKubernetes || e.Mode != ModeEnforce || e.LogDenied || e.Hosts != nil {
		t.Errorf("implicit environment: plugin %q mode %q log %v hosts %v", e.Plugin, e.Mode, e.LogDenied, e.Hosts)
	}
	_, probs = Parse([]File{{Path: "deps.yaml", Data: []byte("netdep: v1\nnamespace: pay\nservices:\n  api:\n    calls: [{host: api.stripe.com, ports: [443]}]\n"), Explicit: true}})
	if errs := probs.Errors(); len(errs) != 1 || !strings.Contains(errs[0].Message, "no project file") {
		t.Errorf("want one error saying there is no project file, got:\n%s", probs.Error())
	}
}
