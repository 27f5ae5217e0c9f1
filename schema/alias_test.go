package schema

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestNoAliasNoCharge: a document without aliases uses none of the alias
// allowance, however large it is. Resolving a node twice (an accessor
// handing the node it resolved to the next) used to be charged twice, so a
// 4 MB file of 60,000 services and no alias was refused as a "billion
// laughs".
func TestNoAliasNoCharge(t *testing.T) {
	var big strings.Builder
	big.WriteString("netdep: v1\nnamespace: shop\nservices:\n")
	for i := range 2000 {
		fmt.Fprintf(&big, "  s%d: {selector: {app: s%d}, ports: {http: 80}, calls: [s%d, {cidr: 10.0.0.0/8, ports: [443]}], environments: [dev]}\n", i, i, i+1)
	}
	inputs := map[string][]byte{"generated": []byte(big.String())}
	examples, _ := filepath.Glob("../examples/*/*/*.yaml")
	more, _ := filepath.Glob("../examples/*/*/*/*.yaml")
	for _, p := range append(examples, more...) {
		if strings.Contains(p, "/netpol/") || strings.Contains(p, "/deploy/") {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		inputs[p] = b
	}
	if len(inputs) < 5 {
		t.Fatalf("found %d inputs", len(inputs))
	}
	for name, data := range inputs {
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for {
			var doc yaml.Node
			if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			var probs Problems
			d := newDecoder(name, &probs, &doc, aliasAllowance)
			d.document(doc.Content[0])
			if n := d.aliasVisits(); n != 0 {
				t.Errorf("%s: a document without aliases charged %d visits to the alias allowance", name, n)
			}
		}
	}
}
