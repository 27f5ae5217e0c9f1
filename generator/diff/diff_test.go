package diff

import (
	"bytes"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/schema"

	"github.com/netdep/netdep/tests/golden"
)

// checkGolden compares got with testdata/name; -update rewrites it
// (tests/golden).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	golden.Check(t, filepath.Join("testdata", name), got)
}

func TestAddressClasses(t *testing.T) {
	cases := []struct {
		name     string
		prefixes []string
		want     []string // class name = representative address
	}{
		{"whole spaces", []string{"0.0.0.0/0", "::/0"}, []string{"0.0.0.0/0 = 0.0.0.0", "::/0 = ::"}},
		{"block with except", []string{"0.0.0.0/0", "203.0.113.0/24", "203.0.113.0/29", "::/0"}, []string{
			"0.0.0.0/0 except 203.0.113.0/24 = 0.0.0.0",
			"203.0.113.0/24 except 203.0.113.0/29 = 203.0.113.8",
			"203.0.113.0/29 = 203.0.113.0",
			"::/0 = ::",
		}},
		{"nested and siblings", []string{"0.0.0.0/0", "10.0.0.0/8", "10.8.0.0/16", "10.9.0.0/16", "10.8.1.0/24"}, []string{
			"0.0.0.0/0 except 10.0.0.0/8 = 0.0.0.0",
			"10.0.0.0/8 except 10.8.0.0/16, 10.9.0.0/16 = 10.0.0.0",
			"10.8.0.0/16 except 10.8.1.0/24 = 10.8.0.0",
			"10.8.1.0/24 = 10.8.1.0",
			"10.9.0.0/16 = 10.9.0.0",
		}},
		// Two halves cover their parent: the parent names no class.
		{"covered parent", []string{"10.0.0.0/8", "10.0.0.0/9", "10.128.0.0/9"}, []string{
			"10.0.0.0/9 = 10.0.0.0",
			"10.128.0.0/9 = 10.128.0.0",
		}},
		{"leading child", []string{"0.0.0.0/0", "0.0.0.0/8"}, []string{
			"0.0.0.0/0 except 0.0.0.0/8 = 1.0.0.0",
			"0.0.0.0/8 = 0.0.0.0",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var ps []netip.Prefix
			for _, s := range c.prefixes {
				ps = append(ps, netip.MustParsePrefix(s))
			}
			var got []string
			for _, ac := range addressClasses(ps) {
				got = append(got, ac.ep.String()+" = "+ac.addr.String())
			}
			if d := cmp.Diff(c.want, got); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

func TestPortsString(t *testing.T) {
	cases := []struct {
		ports []Port
		want  string
	}{
		{[]Port{{"TCP", 8080, 0}}, "8080/TCP"},
		{[]Port{{"TCP", 8080, 0}, {"TCP", 9000, 9100}, {"UDP", 53, 0}}, "8080/TCP, 9000-9100/TCP, 53/UDP"},
		{[]Port{{"TCP", 1, 65535}, {"UDP", 1, 65535}, {"SCTP", 1, 65535}}, "any"},
		{[]Port{{"TCP", 1, 65535}}, "any/TCP"},
		{[]Port{{"TCP", 1, 442}, {"TCP", 444, 65535}, {"UDP", 1, 65535}, {"SCTP", 1, 65535}}, "any except 443/TCP"},
	}
	for _, c := range cases {
		if got := PortsString(c.ports); got != c.want {
			t.Errorf("PortsString(%v) = %q, want %q", c.ports, got, c.want)
		}
	}
}

func files(kv ...string) []schema.File {
	var out []schema.File
	for i := 0; i < len(kv); i += 2 {
		out = append(out, schema.File{Path: kv[i], Data: []byte(kv[i+1])})
	}
	return out
}

// flowStrings renders flows compactly for comparison with cmp.Diff.
func flowStrings(fs []Flow) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.From.String()+" -> "+f.To.String()+" "+PortsString(f.Ports))
	}
	return out
}

// TestFlows pins the meaning computed from the two policy sets, including
// changes that move no flow at all.
func TestFlows(t *testing.T) {
	const shop = "netdep: v1\nnamespace: shop\nservices:\n  web:\n    calls: [api:http]\n  api:\n    ports: {http: 8080}\n"
	cases := []struct {
		name          string
		base, head    string
		added, remove []string
	}{
		{name: "same", base: shop, head: shop},
		{
			name:  "new port",
			base:  shop,
			head:  strings.Replace(shop, "{http: 8080}", "{http: 8081}", 1),
			added: []string{"shop/web -> shop/api 8081/TCP"}, remove: []string{"shop/web -> shop/api 8080/TCP"},
		},
		{
			// New labels on both the callee and its caller's rule: the
			// pods move with the spec, so connectivity is unchanged.
			name: "relabel",
			base: shop,
			head: strings.Replace(shop, "  api:\n", "  api:\n    selector: {app: api, tier: v2}\n", 1),
		},
		{
			name:  "dns to a raw peer",
			base:  shop,
			head:  strings.Replace(shop, "calls: [api:http]", "calls: [api:http, {namespace: tools, selector: {app: proxy}, ports: [3128]}]", 1),
			added: []string{"shop/web -> tools/(pods app=proxy) 3128/TCP"},
		},
		{
			name: "ingress isolation dropped",
			base: shop,
			head: strings.Replace(shop, "namespace: shop\n", "namespace: shop\nisolate: [egress]\n", 1),
			// Every shop pod is still egress-isolated: only sources whose
			// egress is open gain anything.
			added: []string{
				"kube-system/(pods k8s-app=kube-dns) -> shop/api any",
				"kube-system/(pods k8s-app=kube-dns) -> shop/web any",
				"kube-system/(pods k8s-app=kube-dns) -> shop/(unlabelled) any",
				// kube-system is no managed namespace, but the world has
				// an unlabelled pod in every namespace it names.
				"kube-system/(unlabelled) -> shop/api any",
				"kube-system/(unlabelled) -> shop/web any",
				"kube-system/(unlabelled) -> shop/(unlabelled) any",
				"netdep-outside/(unlabelled) -> shop/api any",
				"netdep-outside/(unlabelled) -> shop/web any",
				"netdep-outside/(unlabelled) -> shop/(unlabelled) any",
				"0.0.0.0/0 -> shop/api any",
				"0.0.0.0/0 -> shop/web any",
				"0.0.0.0/0 -> shop/(unlabelled) any",
				"::/0 -> shop/api any",
				"::/0 -> shop/web any",
				"::/0 -> shop/(unlabelled) any",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := mustGenerate(t, files("teams/shop.yaml", c.base))
			h := mustGenerate(t, files("teams/shop.yaml", c.head))
			r, err := compareRuns(b, h, Side{Ref: "base"}, WorkingTree)
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Environments) != 1 {
				t.Fatalf("environments: %+v", r.Environments)
			}
			e := r.Environments[0]
			if d := cmp.Diff(c.added, flowStrings(e.FlowsAdded)); d != "" {
				t.Errorf("added (-want +got):\n%s", d)
			}
			if d := cmp.Diff(c.remove, flowStrings(e.FlowsRemoved)); d != "" {
				t.Errorf("removed (-want +got):\n%s", d)
			}
		})
	}
}

// TestMarkdownLarge: a change touching a hundred services of a thousand
// does not fit in a pull-request comment; the report summarises and says
// what it left out.
func TestMarkdownLarge(t *testing.T) {
	base := mustGenerate(t, synthFiles(1000, 0))
	head := mustGenerate(t, synthFiles(1000, 10))
	r, err := compareRuns(base, head, Side{Ref: "origin/main", Commit: strings.Repeat("ab", 20)}, WorkingTree)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteMarkdown(&b, r, MarkdownOptions{}); err != nil {
		t.Fatal(err)
	}
	if b.Len() > MarkdownLimit {
		t.Errorf("markdown is %d bytes, over the %d limit", b.Len(), MarkdownLimit)
	}
	if !strings.Contains(b.String(), "**Not shown**") {
		t.Errorf("markdown does not say what it left out")
	}
	checkGolden(t, "large.md", b.Bytes())
}
