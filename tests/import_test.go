package tests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/importer"
	"github.com/netdep/netdep/generator/verify"
)

// TestImportPolicies imports each case's manifests, compares the written
// files and the report with goldens, generates the files cleanly, and checks
// the files against the original policies: verify.Check must find exactly
// the connections the report lists, narrowed ones as connections the
// originals allow beyond the import (Excess), widened ones as connections
// the import declares and the originals deny (Missing).
func TestImportPolicies(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name  string
		flags []string
	}{
		{name: "simple"},
		{name: "cross-namespace"},
		{name: "ipblock", flags: []string{"--pod-cidr", "10.244.0.0/16"}},
		{name: "match-expressions"},
		{name: "selector-nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := "tests/testdata/import/" + tc.name
			out := filepath.Join(t.TempDir(), "teams")
			args := append([]string{"import", "policies", "--manifests", dir + "/manifests", "--out", out}, tc.flags...)
			res := run(t, root, args...)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.stderr)
			}
			checkGolden(t, "import/"+tc.name+"/report.txt", res.stderr)
			got := readTree(t, out)
			golden := filepath.Join(root, dir, "want")
			if *update {
				writeTree(t, golden, got)
			}
			compareTrees(t, readTree(t, golden), got, golden)

			gen, err := generator.FromPaths([]string{out})
			if err != nil {
				t.Fatalf("the imported files do not generate: %v", err)
			}
			if len(gen.Warnings) > 0 {
				t.Errorf("generating the imported files warns: %v", gen.Warnings)
			}
			cluster, err := importer.LoadCluster([]string{filepath.Join(root, dir, "manifests")})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := verify.Check(gen.Spec, "", importer.ResolveNamespaceSelectors(cluster.Policies, cluster.Namespaces))
			if err != nil {
				t.Fatal(err)
			}
			var fromCheck, fromReport []string
			for _, d := range rep.Excess {
				fromCheck = append(fromCheck, "narrowed "+d.Source+" -> "+d.Destination+" "+d.Ports)
			}
			for _, d := range rep.Missing {
				fromCheck = append(fromCheck, "widened "+d.Source+" -> "+d.Destination+" "+d.Ports)
			}
			for _, line := range strings.Split(res.stderr, "\n") {
				if strings.HasPrefix(line, "narrowed:") || strings.HasPrefix(line, "widened:") {
					if strings.Contains(line, "netdep bug") {
						t.Errorf("unexplained change: %s", line)
					}
					continue
				}
			}
			kind := ""
			for _, line := range strings.Split(res.stderr, "\n") {
				switch {
				case strings.HasPrefix(line, "narrowed:"):
					kind = "narrowed"
				case strings.HasPrefix(line, "widened:"):
					kind = "widened"
				case strings.HasPrefix(line, "  ") && kind != "":
					fromReport = append(fromReport, kind+" "+strings.TrimSpace(line))
				default:
					kind = ""
				}
			}
			sort.Strings(fromCheck)
			sort.Strings(fromReport)
			if diff := cmp.Diff(fromCheck, fromReport); diff != "" {
				t.Errorf("the report and verify.Check against the original policies disagree (-check +report):\n%s", diff)
			}
		})
	}
}

// TestImportFlows imports Hubble flow logs and Otterize intents, compares
// the files with goldens, and checks the round trip: the observations the
// files were built from show no drift against them.
func TestImportFlows(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name  string
		args  []string
		drift bool // every observation has a port: drift must be clean
	}{
		{name: "hubble", args: []string{"tests/testdata/import/hubble/flows.json", "--unmanaged", "kube-system,ingress-nginx"}, drift: true},
		{name: "otterize", args: []string{"tests/testdata/import/otterize/intents.yaml", "--manifests", "tests/testdata/import/otterize/workloads.yaml"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "teams")
			res := run(t, root, append([]string{"import", "flows", "--out", out}, tc.args...)...)
			if res.code != 0 {
				t.Fatalf("exit %d:\n%s", res.code, res.stderr)
			}
			checkGolden(t, "import/"+tc.name+"/report.txt", res.stderr)
			got := readTree(t, out)
			golden := filepath.Join(root, "tests/testdata/import", tc.name, "want")
			if *update {
				writeTree(t, golden, got)
			}
			compareTrees(t, readTree(t, golden), got, golden)
			if _, err := generator.FromPaths([]string{out}); err != nil {
				t.Fatalf("the imported files do not generate: %v", err)
			}
			if tc.drift {
				// Only the flows that were dropped where they were seen may
				// be undeclared: the import leaves them out on purpose.
				d := run(t, root, "import", "drift", "--observed", tc.args[0], "--format", "json", out)
				var reports []importer.DriftReport
				if err := json.Unmarshal([]byte(d.stdout), &reports); err != nil || len(reports) != 1 {
					t.Fatalf("drift: exit %d, %v\n%s%s", d.code, err, d.stdout, d.stderr)
				}
				if len(reports[0].Unused) > 0 {
					t.Errorf("declared but not observed: %+v", reports[0].Unused)
				}
				for _, u := range reports[0].Undeclared {
					if !u.Dropped {
						t.Errorf("observed but not declared: %+v", u)
					}
				}
			}
		})
	}
}

// TestImportDrift: declared-but-unused and used-but-undeclared dependencies,
// exit 1.
func TestImportDrift(t *testing.T) {
	root := repoRoot(t)
	for _, format := range []string{"text", "json"} {
		res := run(t, root, "import", "drift", "--observed", "tests/testdata/import/hubble/flows.json",
			"--format", format, "tests/testdata/import/drift/teams")
		if res.code != 1 {
			t.Errorf("%s: exit %d, want 1\n%s", format, res.code, res.stderr)
		}
		checkGolden(t, "import/drift/report."+format, res.stdout)
	}
}

// TestImportRefusesToOverwrite: an existing file is left alone without
// --force, and nothing else is written either.
func TestImportRefusesToOverwrite(t *testing.T) {
	root := repoRoot(t)
	out := filepath.Join(t.TempDir(), "teams")
	args := []string{"import", "policies", "--manifests", "tests/testdata/import/cross-namespace/manifests", "--out", out}
	if res := run(t, root, args...); res.code != 0 {
		t.Fatalf("first import: exit %d\n%s", res.code, res.stderr)
	}
	edited := []byte("# edited by hand\nnetdep: v1\nnamespace: payments\n")
	if err := os.WriteFile(filepath.Join(out, "payments.yaml"), edited, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(out, "storefront.yaml")); err != nil {
		t.Fatal(err)
	}
	before := readTree(t, out)
	res := run(t, root, args...)
	if res.code != 2 || !strings.Contains(res.stderr, "would overwrite") || !strings.Contains(res.stderr, "--force") {
		t.Errorf("second import: exit %d, stderr %q; want 2 and a hint at --force", res.code, res.stderr)
	}
	compareTrees(t, before, readTree(t, out), "the files before the refused import")
	if res := run(t, root, append(args, "--force")...); res.code != 0 {
		t.Fatalf("--force: exit %d\n%s", res.code, res.stderr)
	}
	if got := readTree(t, out)["payments.yaml"]; string(got) == string(edited) {
		t.Errorf("--force left payments.yaml as it was")
	}
}
