package eval_test

import (
	"os"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
)

// The universe of the plugin tests: payment and checkout in payments, the
// DNS pod, and the hosts a dependency file would call.
func pluginUniverse(hosts ...string) eval.Universe {
	return eval.Universe{
		Pods: []eval.Pod{
			{Namespace: "payments", Name: "payment", Labels: map[string]string{"app": "payment"}, Ports: []corev1.ContainerPort{{ContainerPort: 8080}}},
			{Namespace: "payments", Name: "checkout", Labels: map[string]string{"app": "checkout"}},
			{Namespace: "kube-system", Name: "dns", Labels: map[string]string{"k8s-app": "kube-dns"}},
			{Namespace: "other", Name: "x"},
		},
		Hosts: hosts,
	}
}

// egressDefaultDeny is the v1 default deny of payments with allow-dns,
// which the CiliumNetworkPolicy adds to.
const egressDefaultDeny = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: payments}
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
`

func pluginEval(t *testing.T, u eval.Universe, docs ...string) *eval.Evaluator {
	t.Helper()
	ds := eval.ParseDocuments([]byte(strings.Join(docs, "\n---\n")))
	nps, err := ds.Policies()
	if err != nil {
		t.Fatal(err)
	}
	cnps, err := ds.ClusterNetworkPolicies()
	if err != nil {
		t.Fatal(err)
	}
	po, err := ds.Plugins()
	if err != nil {
		t.Fatal(err)
	}
	if len(po.NotEvaluated) > 0 {
		t.Fatalf("not evaluated: %+v", po.NotEvaluated)
	}
	e, err := eval.NewWithPlugins(u, nps, cnps, po.Plugins)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/plugins/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func hostEP(t *testing.T, e *eval.Evaluator, h string) eval.Endpoint {
	t.Helper()
	ep, ok := e.HostFor(h)
	if !ok {
		t.Fatalf("no host class %s", h)
	}
	return ep
}

func TestHostMatches(t *testing.T) {
	for _, c := range []struct {
		sel, host string
		want      bool
	}{
		{"api.stripe.com", "api.stripe.com", true},
		{"api.stripe.com.", "API.stripe.com", true},
		{"api.stripe.com", "*.stripe.com", false},
		{"*.googleapis.com", "storage.googleapis.com", true},
		{"*.googleapis.com", "googleapis.com", false},
		{"*.googleapis.com", "a.b.googleapis.com", false},
		{"*.googleapis.com", "*.googleapis.com", true},
		{"*.com", "*.googleapis.com", false},
		{"*", "*.googleapis.com", true},
		{"*", "api.stripe.com", true},
		{"*.googleapis.com", "*", false},
	} {
		if got := eval.HostMatches(c.sel, c.host); got != c.want {
			t.Errorf("HostMatches(%q, %q) = %v, want %v", c.sel, c.host, got, c.want)
		}
	}
}

// A CiliumNetworkPolicy admits exactly its host classes, on its ports, to
// the pod it selects, over the v1 default deny.
func TestCiliumAdmitsHostClass(t *testing.T) {
	u := pluginUniverse("api.stripe.com", "*.googleapis.com", "storage.googleapis.com", "example.org")
	e := pluginEval(t, u, egressDefaultDeny, fixture(t, "cilium-hosts.yaml"))
	pay, co := podEP(t, e, "payments/payment"), podEP(t, e, "payments/checkout")
	r := e.Reachability()
	https := eval.NewPortSet(eval.PortRange{Protocol: corev1.ProtocolTCP, From: 443, To: 443})
	for _, c := range []struct {
		src  eval.Endpoint
		host string
		want eval.PortSet
	}{
		{pay, "api.stripe.com", https},
		{pay, "*.googleapis.com", https},
		{pay, "storage.googleapis.com", https}, // a literal class the pattern matches
		{pay, "example.org", eval.PortSet{}},
		{co, "api.stripe.com", eval.PortSet{}}, // not selected: the default deny stays
	} {
		if got := r.Ports(c.src, hostEP(t, e, c.host)); !got.Equal(c.want) {
			t.Errorf("%v -> %s: %s, want %s", c.src, c.host, got, c.want)
		}
	}
	dns := podEP(t, e, "kube-system/dns")
	want := eval.NewPortSet(eval.PortRange{Protocol: corev1.ProtocolUDP, From: 53, To: 53}, eval.PortRange{Protocol: corev1.ProtocolTCP, From: 53, To: 53})
	if got := r.Ports(pay, dns); !got.Equal(want) {
		t.Errorf("payment -> dns: %s, want %s", got, want)
	}
	// toFQDNs admits no address and no pod.
	for i, x := range e.Externals() {
		if x.Host == "" && !r.Ports(pay, eval.ExternalEndpoint(i)).IsEmpty() {
			t.Errorf("payment reaches address class %v", x.Prefixes)
		}
	}
	if got := r.Ports(pay, podEP(t, e, "other/x")); !got.IsEmpty() {
		t.Errorf("payment -> other/x: %s", got)
	}
	v := e.Explain(eval.Query{Src: pay, Dst: hostEP(t, e, "api.stripe.com"), Port: 443})
	if !v.Allowed || len(v.Egress.Allowing) != 1 || v.Egress.Allowing[0].String() != "CiliumNetworkPolicy payments/payment.hosts[0]" {
		t.Errorf("explain: %s", v)
	}
}

// enableDefaultDeny false: a CiliumNetworkPolicy alone isolates nothing;
// without it the rules isolate the direction.
func TestCiliumDefaultDeny(t *testing.T) {
	u := pluginUniverse("api.stripe.com")
	cnp := fixture(t, "cilium-hosts.yaml")
	e := pluginEval(t, u, cnp)
	pay := podEP(t, e, "payments/payment")
	if e.IsolatedEgress(pay.Index) {
		t.Error("payment isolated by an additive CiliumNetworkPolicy")
	}
	if got := e.Reachability().Ports(pay, podEP(t, e, "other/x")); !got.Equal(eval.AllPorts()) {
		t.Errorf("payment -> other/x: %s, want every port", got)
	}
	e = pluginEval(t, u, strings.Replace(cnp, "enableDefaultDeny: {egress: false, ingress: false}", "", 1))
	if !e.IsolatedEgress(pay.Index) {
		t.Error("payment not isolated by rules without enableDefaultDeny")
	}
	if got := e.Reachability().Ports(pay, podEP(t, e, "other/x")); !got.IsEmpty() {
		t.Errorf("payment -> other/x: %s, want none", got)
	}
}

// Only a whole-family ipBlock without excepts holds an unpinned host.
func TestIPBlockAndHosts(t *testing.T) {
	u := pluginUniverse("api.stripe.com")
	for _, c := range []struct {
		block string
		want  bool
	}{
		{"{cidr: 0.0.0.0/0}", true},
		{"{cidr: '::/0'}", true},
		{"{cidr: 0.0.0.0/0, except: [10.0.0.0/8]}", false},
		{"{cidr: 10.0.0.0/8}", false},
	} {
		e := pluginEval(t, u, egressDefaultDeny, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: out, namespace: payments}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{to: [{ipBlock: `+c.block+`}]}]
`)
		got := !e.Reachability().Ports(podEP(t, e, "payments/payment"), hostEP(t, e, "api.stripe.com")).IsEmpty()
		if got != c.want {
			t.Errorf("%s holds the host: %v, want %v", c.block, got, c.want)
		}
		if eval.BlockHoldsHost(strings.Fields(strings.Trim(c.block, "{}"))[1], nil) != strings.HasSuffix(c.block, "/0}") && !strings.Contains(c.block, "except") {
			t.Errorf("BlockHoldsHost disagrees on %s", c.block)
		}
	}
	// A host is never a source: an open ingress admits no host class.
	e := pluginEval(t, u, egressDefaultDeny)
	for _, a := range e.IngressSide(0) {
		if a.Peer.External && e.Externals()[a.Peer.Index].Host != "" {
			t.Errorf("ingress admits host %s", e.Externals()[a.Peer.Index].Host)
		}
	}
}

// Calico's Log+Deny after the Kubernetes policies isolates every pod of
// its namespace in its types, and changes nothing the NetworkPolicies
// allow.
func TestCalicoLogDenyIsolates(t *testing.T) {
	u := pluginUniverse()
	allow := `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: payment, namespace: payments}
spec:
  podSelector: {matchLabels: {app: payment}}
  policyTypes: [Ingress]
  ingress: [{from: [{podSelector: {matchLabels: {app: checkout}}}], ports: [{port: 8080}]}]
`
	e := pluginEval(t, u, allow, fixture(t, "calico-log-denied.yaml"))
	pay, co, x := podEP(t, e, "payments/payment"), podEP(t, e, "payments/checkout"), podEP(t, e, "other/x")
	if !e.IsolatedEgress(co.Index) || !e.IsolatedIngress(co.Index) {
		t.Error("checkout not isolated by the Calico Deny")
	}
	r := e.Reachability()
	// checkout's egress is denied by Calico: nothing reaches payment.
	if got := r.Ports(co, pay); !got.IsEmpty() {
		t.Errorf("checkout -> payment: %s (egress denied)", got)
	}
	if got := r.Ports(x, pay); !got.IsEmpty() {
		t.Errorf("other -> payment: %s", got)
	}
	side := e.IngressSide(pay.Index)
	if len(side) != 1 || side[0].Peer != co {
		t.Errorf("payment ingress side %v, want checkout only", side)
	}
	v := e.Explain(eval.Query{Src: x, Dst: co, Port: 80})
	if v.Allowed || len(v.Ingress.Isolating) != 1 || !strings.Contains(v.Ingress.Isolating[0].String(), "netdep-log-denied") {
		t.Errorf("explain: %s", v)
	}
	// Allow and Pass after a Log decide the rest allowed (no Baseline).
	for _, a := range []string{"Allow", "Pass"} {
		e := pluginEval(t, u, allow, strings.ReplaceAll(fixture(t, "calico-log-denied.yaml"), "action: Deny", "action: "+a))
		if got := e.Reachability().Ports(x, podEP(t, e, "payments/payment")); !got.Equal(eval.AllPorts()) {
			t.Errorf("%s: other -> payment %s, want every port", a, got)
		}
	}
}

// A Pass goes on to the Baseline tier, which then decides.
func TestCalicoPassToBaseline(t *testing.T) {
	u := pluginUniverse()
	baseline := `apiVersion: policy.networking.k8s.io/v1beta1
kind: ClusterNetworkPolicy
metadata: {name: baseline}
spec:
  tier: Baseline
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: payments}}}
  ingress: [{action: Deny, from: [{namespaces: {}}]}]
`
	pass := strings.ReplaceAll(fixture(t, "calico-log-denied.yaml"), "action: Deny", "action: Pass")
	e := pluginEval(t, u, baseline, pass)
	x, pay := podEP(t, e, "other/x"), podEP(t, e, "payments/payment")
	if got := e.Reachability().Ports(x, pay); !got.IsEmpty() {
		t.Errorf("other -> payment: %s, want the Baseline deny", got)
	}
	if v := e.Explain(eval.Query{Src: x, Dst: pay, Port: 80}); v.Allowed || v.Ingress.Cluster == nil {
		t.Errorf("explain: %s", v)
	}
}

func TestDecodePlugins(t *testing.T) {
	for _, c := range []struct {
		name, doc string
		err       string // "" for none
		notEval   string // the field not evaluated
	}{
		{name: "cilium fixture", doc: fixture(t, "cilium-hosts.yaml")},
		{name: "calico fixture", doc: fixture(t, "calico-log-denied.yaml")},
		{name: "staged fixture", doc: fixture(t, "staged.yaml")},
		{name: "unknown field", doc: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  endpointSelector: {}\n  egress:\n  - toFQDN: [{matchName: x.com}]\n",
			err: `7:5: document 1: spec.egress[0]: unknown field "toFQDN"`},
		{name: "both name and pattern", doc: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  endpointSelector: {}\n  egress:\n  - toFQDNs: [{matchName: x.com, matchPattern: '*.x.com'}]\n",
			err: "7:15: document 1: spec.egress[0].toFQDNs[0]: ciliumnetworkpolicy n/a"},
		{name: "bad protocol", doc: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  endpointSelector: {}\n  egress:\n  - toFQDNs: [{matchName: x.com}]\n    toPorts: [{ports: [{port: '443', protocol: ICMP}]}]\n",
			err: "8:48: document 1: spec.egress[0].toPorts[0].ports[0].protocol"},
		{name: "calico bad action", doc: "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  selector: all()\n  order: 2000\n  ingress: [{action: Drop}]\n",
			err: "7:22: document 1: spec.ingress[0].action"},
		{name: "calico order as string", doc: "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  order: '2000'\n",
			err: "5:10: document 1: spec.order: expected a number"},
		{name: "toEntities", doc: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  endpointSelector: {}\n  egress:\n  - toEntities: [world]\n",
			notEval: "spec.egress[0].toEntities"},
		{name: "egressDeny", doc: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  endpointSelector: {}\n  egressDeny:\n  - toCIDR: [10.0.0.0/8]\n",
			notEval: "spec.egressDeny"},
		{name: "http rule", doc: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  endpointSelector: {}\n  egress:\n  - toFQDNs: [{matchName: x.com}]\n    toPorts: [{ports: [{port: '80'}], rules: {http: [{method: GET}]}}]\n",
			notEval: "spec.egress[0].toPorts[0].rules.http"},
		{name: "other pattern", doc: "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  endpointSelector: {}\n  egress:\n  - toFQDNs: [{matchPattern: 'sub*.x.com'}]\n",
			notEval: "spec.egress[0].toFQDNs[0].matchPattern"},
		{name: "calico selector", doc: "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  selector: app == 'x'\n  order: 2000\n",
			notEval: "spec.selector"},
		{name: "calico match", doc: "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  selector: all()\n  order: 2000\n  ingress: [{action: Allow, protocol: TCP}]\n",
			notEval: "spec.ingress[0].protocol"},
		{name: "calico early order", doc: "apiVersion: projectcalico.org/v3\nkind: NetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  selector: all()\n  order: 100\n",
			notEval: "spec.order"},
		{name: "staged delete", doc: "apiVersion: projectcalico.org/v3\nkind: StagedNetworkPolicy\nmetadata: {name: a, namespace: n}\nspec:\n  stagedAction: Delete\n  selector: all()\n  order: 2000\n",
			notEval: "spec.stagedAction"},
	} {
		t.Run(c.name, func(t *testing.T) {
			po, err := eval.ParseDocuments([]byte(c.doc)).Plugins()
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.notEval == "" && len(po.NotEvaluated) > 0:
				t.Fatalf("not evaluated: %+v", po.NotEvaluated)
			case c.notEval != "" && (len(po.NotEvaluated) != 1 || po.NotEvaluated[0].Field != c.notEval):
				t.Fatalf("not evaluated %+v, want %s", po.NotEvaluated, c.notEval)
			case c.notEval != "" && (po.NotEvaluated[0].Line == 0 || !strings.Contains(po.NotEvaluated[0].Reason, "not evaluated")):
				t.Fatalf("not evaluated without position or reason: %+v", po.NotEvaluated[0])
			}
			if c.notEval == "" && po.Len()+po.Staged() == 0 {
				t.Fatal("nothing decoded")
			}
		})
	}
}

// The staged fixture decodes to the NetworkPolicies and Calico policy it
// stages.
func TestDecodeStaged(t *testing.T) {
	po, err := eval.ParseDocuments([]byte(fixture(t, "staged.yaml"))).Plugins()
	if err != nil {
		t.Fatal(err)
	}
	if len(po.StagedPolicies) != 2 || len(po.StagedCalico) != 1 || po.Len() != 0 {
		t.Fatalf("staged %d NetworkPolicies, %d Calico, %d enforced", len(po.StagedPolicies), len(po.StagedCalico), po.Len())
	}
	if np := po.StagedPolicies[1]; np.Name != "payment" || len(np.Spec.Ingress) != 1 || np.Kind != "NetworkPolicy" {
		t.Errorf("staged payment: %+v", np)
	}
	// What Policies reads is unchanged: staged objects are no NetworkPolicy.
	if nps, err := eval.ParseDocuments([]byte(fixture(t, "staged.yaml"))).Policies(); err != nil || len(nps) != 0 {
		t.Errorf("Policies: %d, %v", len(nps), err)
	}
}
