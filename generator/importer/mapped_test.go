package importer

import (
	"fmt"
	"strings"
	"testing"
)

// Hubble reports an IPv4 peer of a dual-stack socket as an IPv4-mapped IPv6
// address. Imported as it is, it becomes a cidr the loader and the API
// server refuse (issue 13, hole 4); it is the IPv4 address.
func TestReadObservedUnmapsIPv4MappedAddresses(t *testing.T) {
	line := `{"flow":{"verdict":"FORWARDED","IP":{"source":"10.244.1.5","destination":"::ffff:203.0.113.7"},"l4":{"TCP":{"destination_port":443}},"source":{"namespace":"shop","labels":["k8s:app=web"],"pod_name":"web-6d5f7-abcde"},"destination":{},"traffic_direction":"EGRESS"}}` + "\n"
	o, problems := ReadObserved("flows.json", strings.NewReader(line))
	if len(problems) != 0 {
		t.Fatalf("ReadObserved: %v", problems)
	}
	if len(o.Observations) != 1 {
		t.Fatalf("got %d observations, want 1", len(o.Observations))
	}
	if ip := o.Observations[0].Dst.IP; !ip.Is4() || ip.String() != "203.0.113.7" {
		t.Errorf("destination address = %v; want the unmapped 203.0.113.7", ip)
	}
}

// TestFlowsMergeServicesNoSelectorTellsApart: a workload whose pods carry
// every label another's selector uses (app=shop beside app=shop,
// component=worker) cannot get a policy of its own; the import folds them
// into one service that selects both and says so, instead of writing files
// that do not load (FuzzReadObserved found it: seed 22b8774dd69ccbee).
func TestFlowsMergeServicesNoSelectorTellsApart(t *testing.T) {
	flow := func(src, srcLabels, dst, dstLabels string, port int) string {
		return fmt.Sprintf(`{"flow":{"verdict":"FORWARDED","l4":{"TCP":{"destination_port":%d}},"source":{"namespace":"shop","labels":[%s],"pod_name":"%s-1","workloads":[{"name":"%s","kind":"Deployment"}]},"destination":{"namespace":"shop","labels":[%s],"pod_name":"%s-1","workloads":[{"name":"%s","kind":"Deployment"}]},"traffic_direction":"EGRESS","is_reply":false}}`+"\n",
			port, srcLabels, src, src, dstLabels, dst, dst)
	}
	web, worker, pg := `"k8s:app=shop"`, `"k8s:app=shop","k8s:component=worker"`, `"k8s:app=postgres"`
	data := flow("shop-web", web, "shop-worker", worker, 9000) + flow("shop-worker", worker, "postgres", pg, 5432)
	obs, probs := ReadObserved("flows.json", strings.NewReader(data))
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	res, err := Flows(obs, FlowOptions{Out: "teams", Inputs: []string{"flows.json"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Files) != 1 || strings.Contains(string(res.Files[0].Data), "shop-worker:") {
		t.Errorf("want one file with shop-worker folded into shop-web:\n%s", res.Files[0].Data)
	}
	note := "the pods of shop/shop-worker carry every label of shop/shop-web's selector {app: shop}"
	found := false
	for _, n := range res.Notes {
		found = found || strings.Contains(n, note)
	}
	if !found {
		t.Errorf("no note %q in %q", note, res.Notes)
	}
}
