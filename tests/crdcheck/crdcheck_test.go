package crdcheck

import (
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/invalid/*.want from the validator's output")

// repoRoot is the netdep repository (this module lives in tests/crdcheck).
var repoRoot = filepath.Join("..", "..")

// crdDirs are the CRD folders: the upstream plugin schemas beside the
// repository (../shared/crds, never copied into it) and the
// network-policy-api v0.1.1 experimental CRDs the repository already holds
// for its v1alpha1 output (AdminNetworkPolicy, BaselineAdminNetworkPolicy).
func crdDirs() (dirs []string, missing string) {
	shared := filepath.Join(repoRoot, "..", "shared", "crds")
	for _, sub := range []string{"cilium", "calico", "network-policy-api"} {
		d := filepath.Join(shared, sub)
		if fi, err := os.Stat(d); err != nil || !fi.IsDir() {
			return nil, d
		}
		dirs = append(dirs, d)
	}
	return append(dirs, filepath.Join(repoRoot, "generator", "policy", "testdata", "v1alpha1", "crd")), ""
}

var (
	loadOnce  sync.Once
	validator *Validator
	loadErr   error
)

// load returns the validator, or skips the test when the shared CRD folder
// is absent (CI has it).
func load(t *testing.T) *Validator {
	t.Helper()
	dirs, missing := crdDirs()
	if missing != "" {
		t.Skipf("SKIPPED: no upstream CRDs in %s (the shared folder beside the repository is absent; CI has it)", missing)
	}
	loadOnce.Do(func() { validator, loadErr = Load(dirs...) })
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return validator
}

func TestKinds(t *testing.T) {
	v := load(t)
	got := strings.Join(v.Kinds(), "\n")
	for _, want := range []string{
		"cilium.io/v2 CiliumNetworkPolicy",
		"cilium.io/v2 CiliumClusterwideNetworkPolicy",
		"projectcalico.org/v3 NetworkPolicy",
		"projectcalico.org/v3 StagedNetworkPolicy",
		"projectcalico.org/v3 StagedKubernetesNetworkPolicy",
		"policy.networking.k8s.io/v1beta1 ClusterNetworkPolicy",
		"policy.networking.k8s.io/v1alpha1 AdminNetworkPolicy",
		"policy.networking.k8s.io/v1alpha1 BaselineAdminNetworkPolicy",
	} {
		if !strings.Contains(got+"\n", want+"\n") {
			t.Errorf("served kinds lack %s; got:\n%s", want, got)
		}
	}
}

func checkFiles(t *testing.T, v *Validator, files ...string) Report {
	t.Helper()
	var r Report
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		v.CheckFile(filepath.ToSlash(f), data, &r)
	}
	r.Sort()
	return r
}

// TestValid: the objects of the issue 21 design (testdata/valid) pass.
func TestValid(t *testing.T) {
	v := load(t)
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/valid/*.yaml (%v)", err)
	}
	r := checkFiles(t, v, files...)
	for _, p := range r.Problems {
		t.Error(p)
	}
	if len(r.Checked) != 7 {
		t.Errorf("checked %d objects, want 7: %v", len(r.Checked), r.Checked)
	}
}

// TestInvalid: each broken fixture fails with the field named; the whole
// report of each file is compared with its .want file (-update rewrites).
func TestInvalid(t *testing.T) {
	v := load(t)
	cases := []struct {
		file string
		// each line of the report must contain one of these, in order
		want []string
	}{
		{"calico-bad-action.yaml", []string{`:13:5: NetworkPolicy payments/netdep-log-denied: spec.ingress[0].action: Unsupported value: "Logg"`}},
		{"calico-cel-icmp.yaml", []string{`NetworkPolicy payments/netdep-log-denied: spec.egress[0].icmp: Invalid value`}},
		{"calico-staged-action.yaml", []string{`:9:3: StagedNetworkPolicy payments/netdep-log-denied: spec.stagedAction: Unsupported value: "Sett"`}},
		{"cilium-bad-port.yaml", []string{`:18:10: CiliumNetworkPolicy payments/payment.hosts: spec.egress[0].toPorts[0].ports[0].port: Invalid value: "TCP/443"`}},
		{"cilium-missing-selector.yaml", []string{`:10:1: CiliumNetworkPolicy payments/payment.hosts: spec: Invalid value: "": must validate one and only one schema (oneOf). Found none valid`}},
		{"cilium-pattern-space.yaml", []string{`:15:7: CiliumNetworkPolicy payments/payment.hosts: spec.egress[0].toFQDNs[0].matchPattern: Invalid value: "*.google apis.com"`}},
		{"cilium-unknown-field.yaml", []string{`:14:5: CiliumNetworkPolicy payments/payment.hosts: spec.egress[0].toFQDN: Unsupported value`}},
		{"several.yaml", []string{
			`:6:3: CiliumNetworkPolicy payments/Payment_Hosts: metadata.name: Invalid value: "Payment_Hosts"`,
			`:8:3: CiliumNetworkPolicy payments/Payment_Hosts: metadata.lables: Unsupported value`,
			`spec.enableDefaultDeny.egress: Invalid value: "string"`,
			`:16:7: CiliumNetworkPolicy payments/Payment_Hosts: spec.egress[0].toFQDNs[0]: Invalid value: "": must validate one and only one schema (oneOf). Found 2 valid alternatives`,
			`spec.egress[0].toPorts[0].ports[0].protocol: Unsupported value: "TLS"`,
			`NetworkPolicy netdep-log-denied: metadata.namespace: Required value`,
			`spec.order: Invalid value: "string"`,
			`spec.types[1]: Unsupported value: "Sideways"`,
		}},
	}
	seen := map[string]bool{}
	for _, c := range cases {
		seen[c.file] = true
		t.Run(c.file, func(t *testing.T) {
			path := filepath.Join("testdata", "invalid", c.file)
			r := checkFiles(t, v, path)
			if len(r.Problems) == 0 {
				t.Fatalf("%s: no problem found", path)
			}
			var lines []string
			for _, p := range r.Problems {
				lines = append(lines, p.String())
			}
			got := strings.Join(lines, "\n") + "\n"
			i := 0
			for _, l := range lines {
				if i < len(c.want) && strings.Contains(l, c.want[i]) {
					i++
				}
			}
			if i < len(c.want) {
				t.Errorf("report lacks (in order from) %q:\n%s", c.want[i], got)
			}
			wantFile := strings.TrimSuffix(path, ".yaml") + ".want"
			if *update {
				if err := os.WriteFile(wantFile, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(wantFile)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if string(want) != got {
				t.Errorf("report differs from %s:\ngot:\n%swant:\n%s", wantFile, got, want)
			}
		})
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.yaml"))
	for _, f := range files {
		if !seen[filepath.Base(f)] {
			t.Errorf("%s has no case in TestInvalid", f)
		}
	}
}

// TestUpstreamCases runs network-policy-api v0.3.0's own CRD test cases
// (pkg/crdtest/testdata, which upstream creates on a real API server with
// envtest) through the validator: valid ones pass, invalid ones fail. The
// module comes from the module cache (go mod download); the test skips
// where it cannot be had.
func TestUpstreamCases(t *testing.T) {
	v := load(t)
	out, err := exec.Command("go", "mod", "download", "-json", "sigs.k8s.io/network-policy-api@v0.3.0").Output()
	if err != nil {
		t.Skipf("SKIPPED: go mod download sigs.k8s.io/network-policy-api@v0.3.0: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %v %s", err, out)
	}
	for _, kind := range []string{"valid", "invalid"} {
		files, _ := filepath.Glob(filepath.Join(mod.Dir, "pkg", "crdtest", "testdata", kind, "*.yaml"))
		sort.Strings(files)
		if len(files) == 0 {
			t.Fatalf("no upstream %s cases in %s", kind, mod.Dir)
		}
		for _, f := range files {
			// The experimental cases need the experimental CRD; the
			// standard one (../shared) is loaded.
			if strings.HasSuffix(f, ".experimental.yaml") {
				continue
			}
			r := checkFiles(t, v, f)
			if len(r.Checked) != 1 {
				t.Errorf("%s: checked %d objects, want 1", f, len(r.Checked))
			}
			switch {
			case kind == "valid" && len(r.Problems) > 0:
				t.Errorf("%s: upstream valid case rejected: %v", filepath.Base(f), r.Problems)
			case kind == "invalid" && len(r.Problems) == 0:
				t.Errorf("%s: upstream invalid case accepted", filepath.Base(f))
			}
		}
	}
}

// TestTrees validates every plugin object under the examples' committed
// trees and the CLI tests' golden trees. Once examples/shop's project
// file names a plugin (issue 21), its tree must hold plugin objects.
func TestTrees(t *testing.T) {
	v := load(t)
	roots, _ := filepath.Glob(filepath.Join(repoRoot, "examples", "*", "netpol"))
	roots = append(roots, filepath.Join(repoRoot, "tests", "testdata"))
	var r Report
	for _, root := range roots {
		if _, err := os.Stat(root); err != nil {
			continue
		}
		if err := v.CheckTree(repoRoot, root, &r); err != nil {
			t.Fatal(err)
		}
	}
	r.Sort()
	for _, p := range r.Problems {
		t.Error(p)
	}
	perRoot := map[string]int{}
	for _, c := range r.Checked {
		parts := strings.SplitN(c.File, "/", 3)
		perRoot[parts[0]+"/"+parts[1]]++
	}
	t.Logf("checked %d plugin objects: %v", len(r.Checked), perRoot)

	project, err := os.ReadFile(filepath.Join(repoRoot, "examples", "shop", "netdep.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(project), "plugin:") {
		n := 0
		for _, c := range r.Checked {
			if strings.HasPrefix(c.File, "examples/shop/netpol/") {
				n++
			}
		}
		if n == 0 {
			t.Errorf("examples/shop/netdep.yaml names a plugin but examples/shop/netpol holds no %s object", strings.Join(Groups, ", "))
		}
	}
	if len(r.Checked) == 0 {
		t.Errorf("no plugin object found under %v", roots)
	}
}
