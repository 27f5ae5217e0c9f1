package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"
)

// Binaries are the programs a run starts.
type Binaries struct {
	Etcd          string
	KubeAPIServer string
	KubeRouter    string
	// Flux's controllers, for the GitOps scenario (flux.go).
	FluxSource    string
	FluxKustomize string
	// KubeNetworkPolicies is the second agent; NetworkPolicyAPICRDs the
	// experimental v1alpha1 CRDs of the very network-policy-api version it
	// was built against (its admin-policy flags need them installed).
	KubeNetworkPolicies  string
	NetworkPolicyAPICRDs string
}

// Tool is an upstream program built, unmodified, from the module proxy. Each
// has its own module under tools/ (go.mod + go.sum pin every version), so the
// e2e module and netdep's never pull it in.
type Tool struct {
	Name string // the binary's name and the folder under tools/
	Pkg  string // the main package to build
}

var (
	toolKubeAPIServer = Tool{"kube-apiserver", "k8s.io/kubernetes/cmd/kube-apiserver"}
	toolKubeRouter    = Tool{"kube-router", "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"}
	toolFluxSource    = Tool{"flux-source-controller", "github.com/fluxcd/source-controller"}
	toolFluxKustomize = Tool{"flux-kustomize-controller", "github.com/fluxcd/kustomize-controller"}
	toolKNP           = Tool{"kube-network-policies", "sigs.k8s.io/kube-network-policies/cmd"}
)

// BuildTools builds or finds every tool; toolsDir is this module's tools/.
// Etcd is not among them: the distribution's etcd-server serves.
func BuildTools(ctx context.Context, toolsDir string, logf func(string, ...any)) (Binaries, error) {
	var b Binaries
	cache, err := CacheDir()
	if err != nil {
		return b, err
	}
	if toolsDir, err = filepath.Abs(toolsDir); err != nil {
		return b, err
	}
	if b.KubeAPIServer, err = toolKubeAPIServer.Build(ctx, toolsDir, cache, logf); err != nil {
		return b, err
	}
	if b.KubeRouter, err = toolKubeRouter.Build(ctx, toolsDir, cache, logf); err != nil {
		return b, err
	}
	if b.FluxSource, err = toolFluxSource.Build(ctx, toolsDir, cache, logf); err != nil {
		return b, err
	}
	if b.FluxKustomize, err = toolFluxKustomize.Build(ctx, toolsDir, cache, logf); err != nil {
		return b, err
	}
	if b.KubeNetworkPolicies, err = toolKNP.Build(ctx, toolsDir, cache, logf); err != nil {
		return b, err
	}
	npa, err := toolKNP.ModuleDir(ctx, toolsDir, "sigs.k8s.io/network-policy-api")
	if err != nil {
		return b, err
	}
	b.NetworkPolicyAPICRDs = filepath.Join(npa, "config", "crd", "experimental")
	return b, nil
}

// CacheDir is where built tools are kept between runs, outside the
// repository: $NETDEP_E2E_CACHE, else $XDG_CACHE_HOME/netdep-e2e, else
// ~/.cache/netdep-e2e.
func CacheDir() (string, error) {
	if d := os.Getenv("NETDEP_E2E_CACHE"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "netdep-e2e"), nil
}

// Build returns the path of the tool's binary, building it when the cache
// has none for this exact go.mod, go.sum, Go version and platform. A cold
// kube-apiserver build takes minutes; a warm run only hashes two files.
func (t Tool) Build(ctx context.Context, toolsDir, cacheDir string, logf func(string, ...any)) (string, error) {
	dir := filepath.Join(toolsDir, t.Name)
	h := sha256.New()
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", f, len(b))
		h.Write(b)
	}
	goBin := goBinary()
	ver, err := exec.CommandContext(ctx, goBin, "env", "GOVERSION", "GOOS", "GOARCH").Output()
	if err != nil {
		return "", fmt.Errorf("go env: %w", err)
	}
	fmt.Fprintf(h, "%s\n%s\n", ver, t.Pkg)
	key := hex.EncodeToString(h.Sum(nil))[:16]
	out := filepath.Join(cacheDir, t.Name+"-"+key)
	if _, err := os.Stat(out); err == nil {
		logf("%s: cached %s", t.Name, out)
		return out, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	start := time.Now()
	logf("%s: building %s (cold cache; minutes)", t.Name, t.Pkg)
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	cmd := exec.CommandContext(ctx, goBin, "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, t.Pkg)
	cmd.Dir = dir
	// The tool modules are complete; never let a build edit them.
	cmd.Env = toolEnv()
	var outb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &outb, &outb
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("build %s: %w\n%s", t.Name, err, outb.String())
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", err
	}
	logf("%s: built in %s", t.Name, time.Since(start).Round(time.Second))
	return out, nil
}

func goBinary() string {
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goBin); err != nil {
		return "go"
	}
	return goBin
}

// toolEnv is how every go command runs in a tool module: the modules are
// complete, and no command may edit them.
func toolEnv() []string {
	return append(os.Environ(), "GOFLAGS=-mod=readonly", "CGO_ENABLED=0", "GOWORK=off")
}

// ModuleDir returns the module cache directory of module at the version the
// tool's go.mod selects, downloading it if the cache lacks it (a tool binary
// can be cached while the module cache is not).
func (t Tool) ModuleDir(ctx context.Context, toolsDir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, goBinary(), "mod", "download", "-json", module)
	cmd.Dir = filepath.Join(toolsDir, t.Name)
	cmd.Env = toolEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go mod download %s in tools/%s: %w\n%s", module, t.Name, err, stderr.String())
	}
	var m struct{ Dir, Error string }
	if err := json.Unmarshal(out, &m); err != nil {
		return "", fmt.Errorf("go mod download %s: %w", module, err)
	}
	if m.Error != "" || m.Dir == "" {
		return "", fmt.Errorf("go mod download %s: %s", module, m.Error)
	}
	return m.Dir, nil
}
