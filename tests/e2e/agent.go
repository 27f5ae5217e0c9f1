package e2e

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Agent is one unmodified NetworkPolicy enforcement agent running in the node
// namespace for one run. A fresh one is made for every (scenario, agent
// kind) pair, so no state crosses runs.
type Agent interface {
	Name() string
	// Start runs the agent against the cluster's API server and returns once
	// it is enforcing (with no policy yet, nothing is denied).
	Start(ctx context.Context, node *NetNS, c *Cluster, dir string) error
	// WaitProgrammed returns once the agent has taken in the n
	// NetworkPolicies just applied (after any admin policies) and has
	// stopped changing.
	WaitProgrammed(ctx context.Context, n int) error
	// Detail says how this run's agent is configured and hooked in, for the
	// log (flags that matter, any stand-in for a missing kernel feature).
	Detail() string
	// State is the agent's dataplane as it stands (rules, sets, queues), for
	// a failing run to show.
	State(ctx context.Context) string
	Processes() []*Process
	Stop()
}

// AgentKind is an enforcement agent the suite runs scenarios against.
type AgentKind struct {
	Name string
	// APIs it can enforce beyond NetworkPolicy. A scenario whose objects
	// need another API is not run with this agent (and the run says so).
	APIs []API
	// Workers is how many probes a sweep keeps in flight. An agent that
	// rejects denied packets answers every probe within a millisecond; one
	// that drops them makes each denied probe wait out its timeout, and
	// only concurrency keeps the sweep short (the waits cost no CPU).
	Workers int
	// New makes the agent for one run; apis are the APIs the scenario uses
	// (a subset of APIs), for an agent that enables them by flag.
	New func(bins Binaries, apis []API) Agent
}

// Enforces reports whether the agent can enforce every API in apis.
func (k AgentKind) Enforces(apis []API) bool {
	for _, a := range apis {
		if !slices.Contains(k.APIs, a) {
			return false
		}
	}
	return true
}

// kubeRouterWorkers is how many probes a sweep keeps in flight under
// kube-router, which rejects denied packets at once.
const kubeRouterWorkers = 24

// AgentKinds is every agent the suite knows, in the order runs use them.
func AgentKinds() []AgentKind {
	return []AgentKind{
		{
			Name:    "kube-router",
			Workers: kubeRouterWorkers,
			New:     func(b Binaries, _ []API) Agent { return &KubeRouter{Bin: b.KubeRouter} },
		},
		{
			Name:    "kube-network-policies",
			APIs:    []API{AdminNetworkPolicy, BaselineAdminNetworkPolicy},
			Workers: 512,
			New: func(b Binaries, apis []API) Agent {
				return &KubeNetworkPolicies{
					Bin:                        b.KubeNetworkPolicies,
					AdminNetworkPolicy:         slices.Contains(apis, AdminNetworkPolicy),
					BaselineAdminNetworkPolicy: slices.Contains(apis, BaselineAdminNetworkPolicy),
				}
			},
		},
	}
}

// SelectAgents returns the agent kinds named in spec (comma-separated, as
// in $NETDEP_E2E_AGENTS), or all of them when spec is empty.
func SelectAgents(spec string) ([]AgentKind, error) {
	all := AgentKinds()
	if strings.TrimSpace(spec) == "" {
		return all, nil
	}
	var out []AgentKind
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(all, func(k AgentKind) bool { return k.Name == name })
		if i < 0 {
			var names []string
			for _, k := range all {
				names = append(names, k.Name)
			}
			return nil, fmt.Errorf("unknown agent %q (known: %s)", name, strings.Join(names, ", "))
		}
		if !slices.ContainsFunc(out, func(k AgentKind) bool { return k.Name == name }) {
			out = append(out, all[i])
		}
	}
	return out, nil
}
