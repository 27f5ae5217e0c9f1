package e2e

import (
	"encoding/json"
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
)

// Guardrails: ClusterNetworkPolicies (policy.networking.k8s.io/v1beta1).
// No agent that builds here enforces v1beta1 (kube-network-policies v0.8.0
// knows AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1; the
// release that moved to v1beta1 needs a newer Go), so a scenario with
// ClusterNetworkPolicies is enforced in their v1alpha1 equivalents, made by
// netdep's own policy.ToV1Alpha1 at load time, and judged by netdep's
// evaluator over the v1beta1 objects: a conversion that changed a meaning
// fails the scenario on real packets.

// withClusterPolicies gives sc the ClusterNetworkPolicies cnps: their
// v1alpha1 equivalents as objects for the agent, their ports in the probe
// set, and the evaluator over pols and cnps as an oracle besides what sc
// already has. addrs are the address prefixes the evaluator's world
// distinguishes beyond the policies' own (an example's named CIDRs).
//
// When ToV1Alpha1 refuses (the v1beta1 objects have no exact v1alpha1
// equivalent), no agent here can enforce the scenario: it is marked
// Unenforceable with the reason, and the suite names it in the tally
// instead of running it. Its oracles are still built, so that the rest of
// the scenario is checked to load.
func (sc *Scenario) withClusterPolicies(cnps []*v1beta1.ClusterNetworkPolicy, addrs []netip.Prefix) error {
	objs, cerr := ConvertClusterPolicies(cnps)
	sc.ClusterPolicies = cnps
	sc.Objects = append(sc.Objects, objs...)
	sc.Universe.AddClusterPolicyPorts(cnps)
	eo, err := NewClusterEvalOracle(sc.Universe, addrs, sc.Policies, cnps)
	if err != nil {
		return err
	}
	if err := coversNetworks(sc.Universe, cnps); err != nil {
		return err
	}
	sc.Oracles = append(sc.Oracles, eo)
	if cerr != nil {
		sc.Unenforceable = fmt.Sprintf("no agent here enforces ClusterNetworkPolicy v1beta1, and its v1alpha1 conversion is refused: %v", cerr)
		return nil
	}
	sc.Notes = append(sc.Notes, fmt.Sprintf("%d ClusterNetworkPolicies (v1beta1) enforced as %d v1alpha1 objects (policy.ToV1Alpha1); oracles: %s", len(cnps), len(objs), oracleNames(sc.Oracles)))
	return nil
}

// withV1Alpha1Objects gives sc AdminNetworkPolicies and a
// BaselineAdminNetworkPolicy as written in a tree (guardrails.api:
// v1alpha1): the agent gets them unchanged, and the evaluator's oracle
// reads them the way netdep verify reads the tree (eval's strict decode
// into the v1beta1 equivalents), so a tree whose objects mean something
// other than what verify proved fails on real packets.
func (sc *Scenario) withV1Alpha1Objects(objs []*unstructured.Unstructured, addrs []netip.Prefix) error {
	var docs []byte
	for _, o := range objs {
		b, err := sigsyaml.Marshal(o.Object)
		if err != nil {
			return err
		}
		docs = append(append(docs, b...), "\n---\n"...)
	}
	cnps, err := eval.ParseDocuments(docs).ClusterNetworkPolicies()
	if err != nil {
		return fmt.Errorf("netdep's reading of the v1alpha1 objects: %w", err)
	}
	sc.Objects = append(sc.Objects, objs...)
	sc.ClusterPolicies = cnps
	sc.Universe.AddClusterPolicyPorts(cnps)
	eo, err := NewClusterEvalOracle(sc.Universe, addrs, sc.Policies, cnps)
	if err != nil {
		return err
	}
	if err := coversNetworks(sc.Universe, cnps); err != nil {
		return err
	}
	sc.Oracles = append(sc.Oracles, eo)
	sc.Notes = append(sc.Notes, fmt.Sprintf("%d v1alpha1 objects enforced as written (no conversion); oracles: %s", len(objs), oracleNames(sc.Oracles)))
	return nil
}

func oracleNames(os []Oracle) string {
	s := ""
	for i, o := range os {
		if i > 0 {
			s += " and "
		}
		s += o.Name()
	}
	return s
}

// ConvertClusterPolicies converts cnps with policy.ToV1Alpha1 into the
// objects an agent is given: AdminNetworkPolicies, then the
// BaselineAdminNetworkPolicy, as the API server takes them (no status).
func ConvertClusterPolicies(cnps []*v1beta1.ClusterNetworkPolicy) ([]*unstructured.Unstructured, error) {
	anps, banp, err := policy.ToV1Alpha1(cnps)
	if err != nil {
		return nil, fmt.Errorf("policy.ToV1Alpha1: %w", err)
	}
	var typed []any
	for _, a := range anps {
		typed = append(typed, a)
	}
	if banp != nil {
		typed = append(typed, banp)
	}
	var out []*unstructured.Unstructured
	for _, o := range typed {
		b, err := json.Marshal(o)
		if err != nil {
			return nil, err
		}
		u := &unstructured.Unstructured{}
		if err := json.Unmarshal(b, &u.Object); err != nil {
			return nil, err
		}
		delete(u.Object, "status")
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		if _, ok := apiOf(u.GroupVersionKind()); !ok {
			return nil, fmt.Errorf("policy.ToV1Alpha1 returned a %s, which no agent here enforces", u.GroupVersionKind())
		}
		out = append(out, u)
	}
	return out, nil
}

// AddClusterPolicyPorts records the numeric ports and ranges of the
// ClusterNetworkPolicies' rules, as AddPolicyPorts does for NetworkPolicies.
func (u *Universe) AddClusterPolicyPorts(cnps []*v1beta1.ClusterNetworkPolicy) {
	add := func(protos []v1beta1.ClusterNetworkPolicyProtocol) {
		for _, pr := range protos {
			var proto corev1.Protocol
			var dp *v1beta1.Port
			switch {
			case pr.TCP != nil:
				proto, dp = corev1.ProtocolTCP, pr.TCP.DestinationPort
			case pr.UDP != nil:
				proto, dp = corev1.ProtocolUDP, pr.UDP.DestinationPort
			case pr.SCTP != nil:
				proto, dp = corev1.ProtocolSCTP, pr.SCTP.DestinationPort
			}
			switch {
			case dp == nil:
				// a named port resolves to declared container ports
			case dp.Range != nil:
				u.PolicyPorts = append(u.PolicyPorts, Port{Protocol: proto, Port: dp.Range.Start, EndPort: dp.Range.End})
			default:
				u.PolicyPorts = append(u.PolicyPorts, Port{Protocol: proto, Port: dp.Number})
			}
		}
	}
	for _, p := range cnps {
		for _, r := range p.Spec.Ingress {
			add(r.Protocols)
		}
		for _, r := range p.Spec.Egress {
			add(r.Protocols)
		}
	}
}

// coversNetworks checks that every IPv4 network a ClusterNetworkPolicy
// names has a host outside the cluster in it, so that every such rule
// (the cloud metadata deny above all) is probed on real packets.
func coversNetworks(u *Universe, cnps []*v1beta1.ClusterNetworkPolicy) error {
	for _, p := range cnps {
		for i, r := range p.Spec.Egress {
			for j, peer := range r.To {
				for _, n := range peer.Networks {
					pfx, err := netip.ParsePrefix(string(n))
					if err != nil {
						return fmt.Errorf("clusternetworkpolicy %s: spec.egress[%d].to[%d]: %w", p.Name, i, j, err)
					}
					if !pfx.Addr().Is4() {
						continue // the test bed is IPv4 only
					}
					found := false
					for _, x := range u.External {
						found = found || pfx.Contains(x.IP)
					}
					if !found {
						return fmt.Errorf("clusternetworkpolicy %s: spec.egress[%d].to[%d]: no host outside the cluster in %s: the rule would not be probed", p.Name, i, j, pfx)
					}
				}
			}
		}
	}
	return nil
}
