package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// KubeNetworkPolicies is sigs.k8s.io/kube-network-policies, the SIG Network
// agent that decides in userspace: netfilter hands it the first packet of
// every new connection through NFQUEUE, and it evaluates the policies from
// its informers' caches and answers accept or drop. Denied packets are
// dropped, never rejected, so a denied probe waits out its timeout.
//
// It runs unmodified. One kernel feature it relies on is missing on some
// machines (this one included: CONFIG_NFT_QUEUE is not set), the nftables
// `queue` expression, and without it the agent's whole nftables table fails
// to load. Where that happens, and only then, queueShim puts an iptables
// NFQUEUE rule (xt_NFQUEUE) in its place: it diverts the same packets to the
// same queue, and every verdict is still the agent's.
type KubeNetworkPolicies struct {
	Bin string
	// The agent's own feature flags for the v1alpha1 policy APIs. With either
	// on it watches the API's objects (their CRDs must be installed before it
	// starts) and queues every new connection, not only those of pods that a
	// NetworkPolicy selects.
	AdminNetworkPolicy         bool
	BaselineAdminNetworkPolicy bool

	node    *NetNS
	proc    *Process
	held    *QueueHolder // queue knpQueue+1, see Start
	shimmed bool
	loadErr string // the agent's own words on why its table did not load
	logMark int64  // the log's size once the agent was enforcing
}

const (
	knpQueue = 100
	// knpTable is the agent's nftables table (its default name).
	knpTable = "kube-network-policies"
	// shimChain is the shim's iptables chain in the node's mangle table.
	shimChain = "NDE2E-KNP-NFQUEUE"
)

func (k *KubeNetworkPolicies) Name() string { return "kube-network-policies" }

// Args are the agent's flags for this run.
func (k *KubeNetworkPolicies) Args() []string {
	args := []string{
		"--hostname-override=" + nodeName,
		fmt.Sprintf("--nfqueue-id=%d", knpQueue),
		// The node namespace's own loopback; a free port (no two runs can
		// collide, and nothing scrapes it).
		"--metrics-bind-address=127.0.0.1:0",
		// The flag's own help: not needed on kernels 6.12 and later. Off,
		// every packet the agent sees goes through one chain (postrouting),
		// which is the one the shim has to stand in for.
		"--netfilter-bug-1766-fix=false",
		// There is no container runtime whose NRI socket it could ask for pod
		// IPs; it reads them from pod status, as the API server has them.
		"--disable-nri",
	}
	if k.AdminNetworkPolicy {
		args = append(args, "--admin-network-policy")
	}
	if k.BaselineAdminNetworkPolicy {
		args = append(args, "--baseline-admin-network-policy")
	}
	return args
}

// serviceAccountShell gives the agent what rest.InClusterConfig reads (it
// has no --kubeconfig flag): the API server's address from the environment,
// and a token and CA bundle at the fixed in-pod path. `ip netns exec` runs
// the command in a mount namespace of its own whose mounts do not propagate
// back, so the tmpfs over /run is seen by the agent alone and vanishes with
// it; nothing is written outside the run's directory.
const serviceAccountShell = `set -e
mount -t tmpfs -o mode=0755,size=1m nde2e-sa /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$NDE2E_SA_DIR/token" "$NDE2E_SA_DIR/ca.crt" /run/secrets/kubernetes.io/serviceaccount/
exec "$@"`

func (k *KubeNetworkPolicies) Start(ctx context.Context, node *NetNS, c *Cluster, dir string) error {
	k.node = node
	sa := filepath.Join(dir, "knp-serviceaccount")
	if err := os.MkdirAll(sa, 0o700); err != nil {
		return err
	}
	ca, err := os.ReadFile(c.CAFile)
	if err != nil {
		return fmt.Errorf("the API server's certificate: %w", err)
	}
	if err := os.WriteFile(filepath.Join(sa, "ca.crt"), ca, 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(sa, "token"), []byte(c.Token), 0o600); err != nil {
		return err
	}
	if k.AdminNetworkPolicy {
		// With --admin-network-policy the agent also starts a DNS snooper for
		// domainNames peers: it binds queue 101 and loads an nftables table that
		// queues DNS answers to it. Without nft_queue that table cannot load
		// either; the snooper then returns and closes its queue, and v0.8.0's
		// receive loop, whose error handler answers 0 to a closed socket, spins
		// on it for good, logging each turn (half a core and 270 MB of log a
		// minute, measured here). Holding queue 101 makes the snooper's bind
		// fail at once, before its loop starts. Nothing else uses that queue,
		// and on a kernel without nft_queue no DNS answer could reach it:
		// domainNames peers are not enforced here either way.
		if k.held, err = HoldQueue(node, knpQueue+1); err != nil {
			return err
		}
	}
	cmd := node.Command("sh", append([]string{"-c", serviceAccountShell, "kube-network-policies", k.Bin}, k.Args()...)...)
	cmd.Env = append(os.Environ(),
		"NDE2E_SA_DIR="+sa,
		"KUBERNETES_SERVICE_HOST=127.0.0.1",
		"KUBERNETES_SERVICE_PORT="+apiPort,
	)
	if k.proc, err = Start("kube-network-policies", dir, cmd); err != nil {
		return err
	}
	// The agent binds its queue only after its caches have synced and it
	// has tried to load its nftables table: once the queue is bound, the
	// table is there or it is not going to be.
	if err := k.poll(ctx, "bind its nfqueue", func() (bool, error) {
		return k.queueBound(ctx)
	}); err != nil {
		return err
	}
	if _, err := node.Output(ctx, "nft", "list", "table", "inet", knpTable); err != nil {
		if err := k.installShim(ctx); err != nil {
			return fmt.Errorf("installing the NFQUEUE shim: %w", err)
		}
		k.shimmed = true
		k.loadErr = lastMatch(k.proc.Tail(200), `"syncing nftables rules"`)
	}
	st, err := os.Stat(k.proc.LogPath)
	if err != nil {
		return err
	}
	k.logMark = st.Size()
	return nil
}

func (k *KubeNetworkPolicies) Detail() string {
	var on []string
	if k.AdminNetworkPolicy {
		on = append(on, "--admin-network-policy")
	}
	if k.BaselineAdminNetworkPolicy {
		on = append(on, "--baseline-admin-network-policy")
	}
	d := "NetworkPolicy only"
	if len(on) > 0 {
		d = strings.Join(on, " ")
	}
	if k.held != nil {
		d += fmt.Sprintf("; queue %d held (no DNS snooper)", knpQueue+1)
	}
	if k.shimmed {
		return fmt.Sprintf("%s; its nftables table did not load (it logged: %s): iptables NFQUEUE to queue %d in its place", d, k.loadErr, knpQueue)
	}
	return d + "; its own nftables rules loaded"
}

// queueBound reads the node namespace's NFQUEUE table (per network
// namespace): a line per queue a process is bound to.
func (k *KubeNetworkPolicies) queueBound(ctx context.Context) (bool, error) {
	out, err := k.node.Output(ctx, "cat", "/proc/net/netfilter/nfnetlink_queue")
	if err != nil {
		return false, err
	}
	for _, l := range strings.Split(string(out), "\n") {
		if f := strings.Fields(l); len(f) > 0 && f[0] == fmt.Sprint(knpQueue) {
			return true, nil
		}
	}
	return false, nil
}

// shimRules is the agent's postrouting chain as it would load it (see
// syncNFTablesRules in pkg/networkpolicy/controller.go of v0.8.0), in
// iptables form, in the node's mangle table. Its rules, in its order:
//   - `meta skuid 0 accept`: the node's own traffic (here: etcd, the API
//     server and the agent on loopback) is never queued;
//   - `ct state established,related accept`: only a connection's first
//     packet is judged;
//   - `queue to 100`: everything else goes to the agent.
//
// The agent's queue rules match only addresses in a set of the pods its
// NetworkPolicies select (and every packet when an admin API is on); the
// shim queues every packet, as the agent itself does with an admin API on.
// A packet neither of whose ends is selected gets the agent's accept, so
// the superset changes what the agent is asked, never what it answers.
// RETURN rather than ACCEPT: it ends the shim's chain and nothing else, as
// accept ends only the agent's own base chain.
var shimRules = [][]string{
	{"-N", shimChain},
	{"-A", shimChain, "-m", "owner", "--uid-owner", "0", "-j", "RETURN"},
	{"-A", shimChain, "-m", "conntrack", "--ctstate", "ESTABLISHED,RELATED", "-j", "RETURN"},
	{"-A", shimChain, "-j", "NFQUEUE", "--queue-num", fmt.Sprint(knpQueue)},
	{"-A", "POSTROUTING", "-j", shimChain},
}

func (k *KubeNetworkPolicies) installShim(ctx context.Context) error {
	for _, r := range shimRules {
		if _, err := k.node.Output(ctx, "iptables", append([]string{"-w", "-t", "mangle"}, r...)...); err != nil {
			return err
		}
	}
	return nil
}

// WaitProgrammed waits until the agent has synced after the policies were
// applied and its log has been quiet for a second. The agent keeps no
// ruleset that mirrors the policies (it reads its informers' caches for
// every new connection), so its log is the only outward sign: every
// NetworkPolicy event that selects a pod on the node makes it log "Syncing
// nftables rules" once the object is in its cache. Events arrive in order,
// so a quiet log after such a line means the cache holds every policy
// created before it. (Admin API objects trigger no sync of their own; they
// are applied before the NetworkPolicies, so a scenario with them needs at
// least one NetworkPolicy.)
func (k *KubeNetworkPolicies) WaitProgrammed(ctx context.Context, n int) error {
	prev, quiet := int64(-1), 0
	return k.poll(ctx, fmt.Sprintf("take in %d policies", n), func() (bool, error) {
		b, err := os.ReadFile(k.proc.LogPath)
		if err != nil {
			return false, err
		}
		size := int64(len(b))
		if size < k.logMark {
			return false, fmt.Errorf("log shrank")
		}
		if !strings.Contains(string(b[k.logMark:]), "Syncing nftables rules") {
			return false, nil
		}
		if size == prev {
			quiet++
		} else {
			quiet = 0
		}
		prev = size
		return quiet >= 2, nil
	})
}

// poll calls ok every half second until it holds, the agent exits, or 90
// seconds pass.
func (k *KubeNetworkPolicies) poll(ctx context.Context, what string, ok func() (bool, error)) error {
	deadline := time.Now().Add(90 * time.Second)
	for {
		if done, err := k.proc.Exited(); done {
			return fmt.Errorf("kube-network-policies exited: %v\n%s", err, k.proc.Tail(40))
		}
		done, err := ok()
		if err == nil && done {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("kube-network-policies did not %s in time (last error: %v)\n%s", what, err, k.proc.Tail(40))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// State is the node's nftables ruleset (the agent's table if it loaded),
// its mangle table (the shim) and its bound queues with their counters.
func (k *KubeNetworkPolicies) State(ctx context.Context) string {
	if k.node == nil {
		return "kube-network-policies was not started"
	}
	var b strings.Builder
	for _, c := range [][]string{
		{"nft", "list", "ruleset"},
		{"iptables-save", "-t", "mangle"},
		{"cat", "/proc/net/netfilter/nfnetlink_queue"},
	} {
		fmt.Fprintf(&b, "# %s\n", strings.Join(c, " "))
		out, err := k.node.Output(ctx, c[0], c[1:]...)
		if err != nil {
			fmt.Fprintf(&b, "%v\n", err)
		}
		b.Write(out)
	}
	return b.String()
}

// lastMatch returns the last klog entry of log that contains s, from s on,
// with a multi-line value (klog's `key=<` ... `>`) joined into one line.
func lastMatch(log, s string) string {
	lines := strings.Split(log, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		j := strings.Index(lines[i], s)
		if j < 0 {
			continue
		}
		out := lines[i][j:]
		if strings.HasSuffix(out, "=<") {
			out = strings.TrimSuffix(out, "<")
			for _, l := range lines[i+1:] {
				if strings.TrimSpace(l) == ">" {
					break
				}
				out += strings.TrimSpace(l) + " "
			}
		}
		return strings.TrimSpace(out)
	}
	return "nothing about it"
}

func (k *KubeNetworkPolicies) Processes() []*Process {
	if k.proc == nil {
		return nil
	}
	return []*Process{k.proc}
}

func (k *KubeNetworkPolicies) Stop() {
	k.proc.Stop()
	_ = k.held.Close()
}
