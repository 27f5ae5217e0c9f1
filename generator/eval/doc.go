// Package eval owns netdep's NetworkPolicy semantics: given a universe of
// namespaces, pods and addresses outside the cluster, and a set of
// networking.k8s.io/v1 NetworkPolicies, it answers who may reach whom, on
// which protocols and ports. `netdep verify` and `netdep diff` are built on it.
//
// It owns, in this order:
//
//   - decoding NetworkPolicies from multi-document YAML manifests (Decode);
//   - the API server's defaulting (Default) and the checks the API server
//     would reject an object for (Validate);
//   - compiling policies over equivalence classes of pods and of addresses
//     (New), so that the whole connectivity matrix is computed with bitsets
//     rather than pair by pair (Evaluator.Reachability);
//   - answering a single question with the policies and rules that decide it
//     (Evaluator.Explain).
//
// Semantics are those of the Kubernetes API reference for NetworkPolicy
// (networking.k8s.io/v1) as stored by the API server after defaulting. Where
// upstream leaves a behaviour to the network plugin, this package picks one
// and says so:
//
//   - ipBlock peers match pod IPs when the universe gives pods IPs (as
//     Calico, Antrea and kube-network-policies do); pods without IPs are
//     never matched by an ipBlock. A pod with several IPs is matched when any
//     of them is.
//   - Only TCP, UDP and SCTP are modelled, on ports 1-65535.
//   - A named port resolves on the destination pod of the connection, by
//     name and protocol, per pod (for an egress rule that is the peer); on
//     an address outside the cluster it matches nothing.
//   - A peer with no field set (`- {}`) is rejected by the API server and
//     so by Validate and New; it does not mean "everyone" (a rule without
//     from/to does).
//   - Address classes (Externals) cover the whole address space, pod IPs
//     included: give the pod and service CIDRs in Universe.Addresses to see
//     them as classes of their own.
//   - Addresses outside the cluster are never isolated: a connection from an
//     external address needs only ingress at its destination pod, one to an
//     external address only egress at its source pod. Connections between
//     two external addresses are not reported by Reachability (Explain
//     calls them allowed: no policy can isolate them).
//   - A pod's connection to itself (loopback) is not reported by
//     Reachability.Flows; Ports and Explain evaluate it by the rules like a
//     connection between two replicas.
//
// # ClusterNetworkPolicy
//
// NewWithClusterPolicies adds policy.networking.k8s.io/v1beta1
// ClusterNetworkPolicies (sigs.k8s.io/network-policy-api v0.3.0, its Go
// types) to the NetworkPolicies; New is the same with none, and answers
// exactly as before. Documents.ClusterNetworkPolicies decodes them strictly,
// like Policies, and ValidateCluster checks what the v0.3.0 CRD would
// refuse. Each direction (egress at the source, ingress at the
// destination) is decided on its own, as for NetworkPolicy, through the
// tiers in order:
//
//   - Admin: the policies whose subject selects the pod and that have
//     rules of this direction ("CNPs with no ingress rules do not affect
//     ingress traffic"), by priority, lower number first, and within a
//     policy its rules in written order. The first rule whose peer and
//     protocols match decides: Accept allows, Deny denies, Pass skips the
//     rest of the Admin tier and goes on to the NetworkPolicies.
//   - NetworkPolicy: a pod some NetworkPolicy isolates in this direction is
//     decided by the NetworkPolicies alone, as without cluster policies.
//   - Baseline: for pods no NetworkPolicy isolates, as the Admin tier; a
//     Pass here goes on to the default (the API allows Pass in both tiers
//     and says it passes to the next tier).
//   - Default: allowed.
//
// Choices where the API leaves room:
//
//   - Ties: "If two (or more) policies in the same tier with the same
//     priority could match a connection, then the implementation can apply
//     any of the matching policies". netdep orders equal priorities by
//     name, so its answer is one a conforming plugin may give, and always
//     the same one; a plugin may give another. Keep priorities unique where
//     the actions of overlapping policies differ.
//   - Subjects and pods/namespaces peers never match addresses outside the
//     cluster; an empty namespaceSelector is every namespace (there is no
//     "own namespace" as in NetworkPolicy).
//   - networks peers (egress only) match address classes and, as ipBlock
//     does here, pods whose IPs fall in the CIDR ("cluster-internal
//     traffic will be checked against the rule as well"). Their CIDRs join
//     the address partition (Externals).
//   - destinationNamedPort resolves on the destination pod by name, whatever
//     the container port's protocol; on an address it matches nothing.
//   - nodes and domainNames peers (experimental channel) are refused by
//     NewWithClusterPolicies with an error naming the field: the universe
//     has no nodes, and which addresses a name resolves to is not known.
//     Guessing either (matching nothing, or everything) would make the
//     exactness claims of verify false.
//   - Explain: Direction.Cluster names the cluster rule that decided (Accept
//     or Deny), Direction.Pass the Admin Pass rule that handed over to the
//     NetworkPolicies; the NetworkPolicy fields keep their meaning and are
//     filled whether or not evaluation reached that tier. IsolatedIngress
//     and IsolatedEgress still report NetworkPolicy isolation; IngressSide
//     and EgressSide go through the tiers, and are nil only when neither a
//     NetworkPolicy nor a ClusterNetworkPolicy with rules of that direction
//     selects the pod.
//   - Cost: with cluster policies, Reachability decides every pair of
//     classes through the tiers (quadratic in classes); without, it is the
//     indexed computation above.
//
// # Hosts and the network plugins' policies
//
// Universe.Hosts and the toFQDNs rules give host classes: external
// services known by DNS name, after the address classes in Externals
// (hosts.go says what a class stands for, and that only a whole-family
// ipBlock without excepts holds an unpinned host). NewWithPlugins adds
// CiliumNetworkPolicies (cilium.io/v2) and Calico NetworkPolicies
// (projectcalico.org/v3) of the subset plugins.go names, translated into
// the same allow rules, isolation and tiers; Documents.Plugins decodes
// them, and Calico's staged kinds, strictly, listing objects outside the
// subset with the field instead of guessing.
//
// The package never prints and never exits; it returns values and errors.
package eval
