package tests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/netdep/netdep/generator/gitrev/gitrevtest"
	"github.com/netdep/netdep/tests/golden"
)

// reportExamples have committed reports (the Makefile's REPORTS); their
// sensitive namespaces are in their project files.
var reportExamples = []string{"guardrails", "platform", "shop"}

// TestReportCommitted: examples/<ex>/report.md and report.html are what
// netdep report writes today (-update, or make examples, rewrites them).
func TestReportCommitted(t *testing.T) {
	for _, ex := range reportExamples {
		for _, f := range []struct{ format, file string }{{"markdown", "report.md"}, {"html", "report.html"}} {
			t.Run(ex+"/"+f.file, func(t *testing.T) {
				r := run(t, repoRoot(t), "report", "examples/"+ex, "--format", f.format)
				if r.code != 0 {
					t.Fatalf("exit %d: %s", r.code, r.stderr)
				}
				golden.Check(t, filepath.Join(root, "examples", ex, f.file), []byte(r.stdout))
			})
		}
	}
}

// TestReportJSON: the json report of examples (one environment of the
// shop, to keep the golden readable), golden.
func TestReportJSON(t *testing.T) {
	for _, c := range []struct {
		name string
		args []string
	}{
		{"shop-prod", []string{"examples/shop", "--env", "prod"}},
		{"platform", []string{"examples/platform"}},
		{"guardrails-prod", []string{"examples/guardrails", "--env", "prod"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, repoRoot(t), append(append([]string{"report"}, c.args...), "--format", "json")...)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			golden.Check(t, filepath.Join(root, "tests/testdata/report", c.name+".json"), []byte(r.stdout))
		})
	}
}

// TestReportConnectivityList: manifests alone (workloads, policies), listed
// as netpol-analyzer lists them. The manifests are netpol-analyzer's
// "minimal" example rewritten by hand (a frontend, a backend, a default
// deny); the three lines are the ones its documentation gives for it.
func TestReportConnectivityList(t *testing.T) {
	dir := filepath.Join(root, "tests/testdata/report/minimal")
	want := `0.0.0.0-255.255.255.255 => default/frontend[Deployment] : TCP 8080
default/frontend[Deployment] => 0.0.0.0-255.255.255.255 : UDP 53
default/frontend[Deployment] => default/backend[Deployment] : TCP 9090
`
	r := run(t, repoRoot(t), "report", "--manifests", dir, "--format", "text")
	if r.code != 0 || r.stdout != want {
		t.Fatalf("exit %d, stderr %q, got:\n%s\nwant:\n%s", r.code, r.stderr, r.stdout, want)
	}
	r = run(t, repoRoot(t), "report", "--manifests", dir, "--format", "csv")
	wantCSV := "src,dst,conn\n" + strings.ReplaceAll(strings.ReplaceAll(want, " => ", ","), " : ", ",")
	if r.code != 0 || r.stdout != wantCSV {
		t.Fatalf("csv: exit %d, got:\n%s\nwant:\n%s", r.code, r.stdout, wantCSV)
	}
	r = run(t, repoRoot(t), "report", "--manifests", dir, "--format", "markdown")
	for _, s := range []string{"| default | yes | 2 | 2 of 2 (100%) | 2 of 2 (100%) | ingress and egress |",
		"| default/frontend[Deployment] | outside the cluster: 0.0.0.0/0 | 8080/TCP |"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("markdown lacks %q:\n%s", s, r.stdout)
		}
	}
}

// TestReportOutFile: --out-file writes the page and nothing on stdout.
func TestReportOutFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "r.html")
	r := run(t, repoRoot(t), "report", "examples/shop", "--env", "dev", "--format", "html", "--out-file", out)
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("<!DOCTYPE html>")) {
		t.Fatalf("%v: %.80s", err, b)
	}
}

// TestReportChromium renders the committed shop report in headless
// Chromium and checks the DOM the page's script leaves: it ran
// (data-ready), reported no error, the figures are there and every node
// of the graph is drawn. A screenshot goes to $NETDEP_ARTIFACTS (default
// tests/artifacts, ignored by git).
func TestReportChromium(t *testing.T) {
	bin := ""
	for _, b := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(b); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Skip("chromium not found (apt-get install chromium): the page is not rendered in a browser")
	}
	page := filepath.Join(root, "examples/shop/report.html")
	src, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(src, []byte("http://")) && regexp.MustCompile(`(src|href)="https?://`).Match(src) {
		t.Errorf("the page fetches from the network")
	}
	flags := []string{"--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=" + t.TempDir()}
	cmd := exec.Command(bin, append(flags, "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000", "--dump-dom", "file://"+page)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	dom, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium: %v\n%s", err, stderr.String())
	}
	d := string(dom)
	if !strings.Contains(d, `data-ready="yes"`) {
		t.Errorf("the page's script did not finish (no data-ready on body)")
	}
	if m := regexp.MustCompile(`<pre id="errors"[^>]*>([^<]*)</pre>`).FindStringSubmatch(d); m == nil || m[1] != "" || !strings.Contains(m[0], "hidden") {
		t.Errorf("the page reported errors: %v", m)
	}
	for _, line := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(line, "CONSOLE") && strings.Contains(strings.ToLower(line), "error") {
			t.Errorf("console error: %s", line)
		}
	}
	for _, s := range []string{"Environment dev", "isolated for ingress", "10 of 12 (83%)", "checkout/order-export", "largest blast radius"} {
		if !strings.Contains(d, s) {
			t.Errorf("the rendered page lacks %q", s)
		}
	}
	nodes := regexp.MustCompile(`<g class="node[^"]*" data-id="`).FindAllString(d, -1)
	if len(nodes) < 14 {
		t.Errorf("%d graph nodes in the DOM, want at least the 14 services of dev", len(nodes))
	}
	if !strings.Contains(d, `data-id="0" data-ns="catalog"`) {
		t.Errorf("the first node is not catalog's first service")
	}

	dir := os.Getenv("NETDEP_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(root, "tests/artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(dir, "report-shop.png")
	cmd = exec.Command(bin, append(flags, "--window-size=1300,1600", "--screenshot="+shot, "file://"+page)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Errorf("no screenshot at %s: %v", shot, err)
	}
}

const (
	rbProject = `netdep: v1
cluster:
  sensitive: [payments]
environments:
  dev: {}
`
	rbShop = `netdep: v1
namespace: shop
services:
  web:
    ports: {http: 8080}
`
	rbShopHead = `netdep: v1
namespace: shop
services:
  web:
    ports: {http: 8080}
    from:
      - {cidr: 0.0.0.0/0, ports: [http]}
    calls:
      - payments/gateway:https
`
	rbPayments = `netdep: v1
namespace: payments
services:
  gateway:
    ports: {https: 8443}
    calls:
      - {cidr: 203.0.113.0/24, ports: [443]}
`
)

// reportRepo is a git history of two revisions: shop and payments apart,
// then shop/web exposed to the whole internet and calling payments (a
// sensitive namespace). withTree commits the generated tree with each.
func reportRepo(t *testing.T, withTree bool) *gitrevtest.Repo {
	g := gitrevtest.New(t)
	generate := func() {
		if !withTree {
			return
		}
		if r := run(t, g.Dir, "generate", ".", "--out", "netpol", "--quiet"); r.code != 0 {
			t.Fatalf("generate: exit %d: %s", r.code, r.stderr)
		}
	}
	g.Write("netdep.yaml", rbProject)
	g.Write("teams/shop.yaml", rbShop)
	g.Write("teams/payments.yaml", rbPayments)
	generate()
	g.Commit("shop and payments, apart")
	g.Write("teams/shop.yaml", rbShopHead)
	generate()
	g.Commit("web: public, calls payments")
	return g
}

// TestReportBase runs `netdep report --base` on real git history, each
// revision with its committed tree; the markdown and json comparisons are
// golden (hashes scrubbed). Without committed trees the dependency files
// are generated at both revisions, with the same figures.
func TestReportBase(t *testing.T) {
	g := reportRepo(t, true)
	for _, f := range []struct{ format, file string }{{"markdown", "base.md"}, {"json", "base.json"}} {
		t.Run(f.format, func(t *testing.T) {
			r := run(t, g.Dir, "report", "--base", "HEAD~1", "--format", f.format)
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			golden.Check(t, filepath.Join(root, "tests/testdata/report", f.file), []byte(g.Scrub(r.stdout)))
		})
	}
	g = reportRepo(t, false)
	r := run(t, g.Dir, "report", "--base", "HEAD~1", "--format", "json")
	want, err := os.ReadFile(filepath.Join(root, "tests/testdata/report/base.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Replace(g.Scrub(r.stdout), `"source": "generated from the dependency files"`, `"source": "tree netpol"`, 1)
	if r.code != 0 || got != string(want) {
		t.Errorf("exit %d, stderr %s; generated from the dependency files, the comparison differs from the trees':\n%s", r.code, r.stderr, got)
	}
}
