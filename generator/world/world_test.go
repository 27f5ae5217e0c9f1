package world_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

func mustParse(t *testing.T, kv ...string) *schema.Spec {
	t.Helper()
	var files []schema.File
	for i := 0; i < len(kv); i += 2 {
		files = append(files, schema.File{Path: kv[i], Data: []byte(kv[i+1])})
	}
	spec, probs := schema.Parse(files)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	return spec
}

// pods is the world as "name labels" lines, in world order.
func pods(w *world.World, side int) []string {
	u := w.Side(side)
	var out []string
	for i, p := range u.Pods {
		if w.Pods[i].Name != p.Namespace+"/"+p.Name {
			out = append(out, "MISMATCH "+w.Pods[i].Name)
		}
		out = append(out, w.Pods[i].Name+" "+world.LabelKey(p.Labels))
	}
	return out
}

const shop = "netdep: v1\nnamespace: shop\nservices:\n  web:\n    calls: [api:http, {namespace: tools, selector: {app: proxy}, ports: [3128]}]\n  api:\n    ports: {http: 8080}\n"

// One spec: a pod per service, a pod per peer and DNS selector, and an
// unlabelled pod in every namespace, the ones no file manages and
// netdep-outside included: the names every report uses.
func TestNewOneSpec(t *testing.T) {
	spec := mustParse(t, "shop.yaml", shop, "tools.yaml", "netdep: v1\nnamespace: tools\nmanaged: false\n")
	w := world.New(spec.Environments[0].Name, spec)
	want := []string{
		"shop/api app=api",
		"shop/web app=web",
		"tools/(pods app=proxy) app=proxy",
		"kube-system/(pods k8s-app=kube-dns) k8s-app=kube-dns",
		"kube-system/(unlabelled) ",
		"netdep-outside/(unlabelled) ",
		"shop/(unlabelled) ",
		"tools/(unlabelled) ",
	}
	if d := cmp.Diff(want, pods(w, 0)); d != "" {
		t.Errorf("pods (-want +got):\n%s", d)
	}
	if d := cmp.Diff(w.Universe, w.Side(0)); d != "" {
		t.Errorf("one spec: Side(0) is not Universe (-universe +side):\n%s", d)
	}
	var kinds []world.PodKind
	for _, p := range w.Pods {
		kinds = append(kinds, p.Kind)
	}
	wantKinds := []world.PodKind{world.ServicePod, world.ServicePod, world.PeerPod, world.PeerPod,
		world.UnlabelledPod, world.UnlabelledPod, world.UnlabelledPod, world.UnlabelledPod}
	if d := cmp.Diff(wantKinds, kinds); d != "" {
		t.Errorf("kinds (-want +got):\n%s", d)
	}
}

// Two specs (diff's base and head): a relabelled service is one pod that
// carries each side's labels, a service one side lacks borrows the other's,
// and a peer selector that is a service's labels on either side is that
// service's pod, not a pod of its own.
func TestNewTwoSpecs(t *testing.T) {
	base := mustParse(t, "shop.yaml", shop)
	head := mustParse(t, "shop.yaml", strings.Replace(shop, "  api:\n", "  api:\n    selector: {app: api, tier: v2}\n", 1),
		"tools.yaml", "netdep: v1\nnamespace: tools\nmanaged: false\nservices:\n  proxy: {}\n")
	w := world.New(base.Environments[0].Name, base, head)
	wantBase := []string{
		"shop/api app=api",
		"shop/web app=web",
		"tools/proxy app=proxy",
		"kube-system/(pods k8s-app=kube-dns) k8s-app=kube-dns",
		"kube-system/(unlabelled) ",
		"netdep-outside/(unlabelled) ",
		"shop/(unlabelled) ",
		"tools/(unlabelled) ",
	}
	wantHead := append([]string(nil), wantBase...)
	wantHead[0] = "shop/api app=api,tier=v2"
	if d := cmp.Diff(wantBase, pods(w, 0)); d != "" {
		t.Errorf("base side (-want +got):\n%s", d)
	}
	if d := cmp.Diff(wantHead, pods(w, 1)); d != "" {
		t.Errorf("head side (-want +got):\n%s", d)
	}
}
