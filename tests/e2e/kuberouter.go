package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"
)

// KubeRouter is kube-router's network-policy controller alone: no routing,
// no service proxy, no CNI. It finds its node by --hostname-override, takes
// the node's InternalIP, and enforces for the pods whose status.hostIP is
// that address. Denied packets are REJECTed, so denied probes fail fast.
type KubeRouter struct {
	Bin  string
	node *NetNS
	proc *Process
}

func (k *KubeRouter) Name() string { return "kube-router" }

func (k *KubeRouter) Detail() string { return "--run-firewall only" }

func (k *KubeRouter) Start(ctx context.Context, node *NetNS, c *Cluster, dir string) error {
	k.node = node
	p, err := Start("kube-router", dir, node.Command(k.Bin,
		"--run-firewall=true",
		"--run-router=false",
		"--run-service-proxy=false",
		"--enable-cni=false",
		"--enable-ipv6=false",
		"--hostname-override="+nodeName,
		"--health-port=0",
		"--metrics-port=0",
		"--kubeconfig="+c.Kubeconfig,
		"--v=1",
	))
	if err != nil {
		return err
	}
	k.proc = p
	return k.wait(ctx, func(rules string) bool {
		return strings.Contains(rules, ":KUBE-ROUTER-FORWARD ") && strings.Contains(rules, ":KUBE-NWPLCY-DEFAULT ")
	})
}

var policyChain = regexp.MustCompile(`(?m)^:KUBE-NWPLCY-[A-Z2-7]{16} `)

func (k *KubeRouter) WaitProgrammed(ctx context.Context, n int) error {
	return k.wait(ctx, func(rules string) bool {
		return len(policyChain.FindAllString(rules, -1)) >= n
	})
}

// wait polls the node's filter table and ipsets until ok holds and they are
// unchanged across two samples a second apart: kube-router rewrites its whole
// ruleset on every sync, so a stable ruleset means no sync is under way.
func (k *KubeRouter) wait(ctx context.Context, ok func(rules string) bool) error {
	deadline := time.Now().Add(90 * time.Second)
	prev, stable := "", 0
	for {
		if done, err := k.proc.Exited(); done {
			return fmt.Errorf("kube-router exited: %v\n%s", err, k.proc.Tail(40))
		}
		state, err := k.snapshot(ctx)
		if err == nil && ok(state) {
			if state == prev {
				stable++
			} else {
				stable = 0
			}
			if stable >= 2 {
				return nil
			}
		}
		prev = state
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("kube-router did not program its rules in time (last error: %v)\n%s", err, k.proc.Tail(40))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

var counters = regexp.MustCompile(`\[\d+:\d+\]`)

func (k *KubeRouter) snapshot(ctx context.Context) (string, error) {
	rules, err := k.node.Output(ctx, "iptables-save", "-t", "filter")
	if err != nil {
		return "", err
	}
	sets, err := k.node.Output(ctx, "ipset", "save")
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	for _, l := range strings.Split(string(rules), "\n") {
		if strings.HasPrefix(l, "#") {
			continue // the save timestamp
		}
		b.WriteString(counters.ReplaceAllString(l, ""))
		b.WriteByte('\n')
	}
	b.Write(sets)
	return b.String(), nil
}

// State is the node's filter table and ipsets.
func (k *KubeRouter) State(ctx context.Context) string {
	if k.node == nil {
		return "kube-router was not started"
	}
	s, err := k.snapshot(ctx)
	if err != nil {
		return err.Error()
	}
	return s
}

func (k *KubeRouter) Processes() []*Process {
	if k.proc == nil {
		return nil
	}
	return []*Process{k.proc}
}

func (k *KubeRouter) Stop() { k.proc.Stop() }

// Syncs counts the full syncs kube-router has finished, from its log (one
// line per sync at --v=1): how many rulesets a transition went through.
func (k *KubeRouter) Syncs() int {
	if k.proc == nil {
		return 0
	}
	b, err := os.ReadFile(k.proc.LogPath)
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("sync iptables took"))
}
