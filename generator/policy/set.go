package policy

import (
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"

	"github.com/netdep/netdep/schema"
)

// Labels and annotations every generated object carries.
const (
	ManagedByLabel     = "app.kubernetes.io/managed-by"
	ManagedByValue     = "netdep"
	SourceAnnotation   = "netdep.io/source"
	SyncWaveAnnotation = "argocd.argoproj.io/sync-wave"
	// AllowWave and DenyWave order a first Argo CD sync: every allow is in
	// place before default-deny isolates a namespace.
	AllowWave = "0"
	DenyWave  = "1"

	// An exception's policies carry the exception, so a reviewer reading
	// the tree (and explain reading any tree) sees who answers for the
	// flow and until when.
	ExceptionAnnotation        = "netdep.io/exception"
	ExceptionOwnerAnnotation   = "netdep.io/exception-owner"
	ExceptionExpiresAnnotation = "netdep.io/exception-expires"
	ExceptionReasonAnnotation  = "netdep.io/exception-reason"
)

// ExceptionPolicyName is the policy of a service's rules that exception
// declares: "<service>.exception.<exception>". Service, environment and
// exception names are DNS-1123 labels (no dots), so it collides neither
// with a service's own policy nor with an environment's additive one
// ("<service>.<env>").
func ExceptionPolicyName(service, exception string) string {
	return service + ".exception." + exception
}

// Set is the generated policies of one run. Policies share read-only
// sub-objects (selectors, ports) to keep large organisations cheap: DeepCopy
// a policy before changing it.
type Set struct {
	// Environments are the environments that have an overlay, sorted; empty
	// when the run has only the implicit environment (base only).
	Environments []string
	// Base holds the policies identical in every environment, sorted by
	// (namespace, name).
	Base []*networkingv1.NetworkPolicy
	// Overlays holds, per environment (same order as Environments), the
	// policies that environment adds to the base, sorted by (namespace, name).
	Overlays [][]*networkingv1.NetworkPolicy

	// ClusterBase and ClusterOverlays are the ClusterNetworkPolicies
	// (cluster guardrails) the same way: those identical in every
	// environment, and per environment the ones that are not, each sorted
	// by name. An environment's policy never shares its name with a base
	// one.
	ClusterBase     []*v1beta1.ClusterNetworkPolicy
	ClusterOverlays [][]*v1beta1.ClusterNetworkPolicy
	// ClusterBaseV1Alpha1 and ClusterOverlaysV1Alpha1 (per environment)
	// say that the tree writes those ClusterNetworkPolicies as their
	// v1alpha1 equivalents (ToV1Alpha1: AdminNetworkPolicies and the
	// BaselineAdminNetworkPolicy), for environments whose guardrails.api
	// is v1alpha1. The Set keeps the v1beta1 form, which means the same
	// and is what the evaluator reads.
	ClusterBaseV1Alpha1     bool
	ClusterOverlaysV1Alpha1 []bool

	// Plugins holds, per environment of the run (spec.EnvNames order: the
	// implicit environment "" when there are no overlays), its plugin
	// objects and rollout mode; see PluginObjects.
	Plugins []PluginObjects
}

// ClusterOverlayV1Alpha1 says whether the i-th environment's cluster
// policies are written in v1alpha1.
func (s *Set) ClusterOverlayV1Alpha1(i int) bool {
	return i < len(s.ClusterOverlaysV1Alpha1) && s.ClusterOverlaysV1Alpha1[i]
}

// Overlay returns the policies environment env adds to the base.
func (s *Set) Overlay(env string) []*networkingv1.NetworkPolicy {
	for i, e := range s.Environments {
		if e == env {
			return s.Overlays[i]
		}
	}
	return nil
}

// Render returns every policy in force in env (base plus its overlay), sorted
// by (namespace, name): what `kustomize build overlays/<env>` yields.
func (s *Set) Render(env string) []*networkingv1.NetworkPolicy {
	out := append([]*networkingv1.NetworkPolicy(nil), s.Base...)
	out = append(out, s.Overlay(env)...)
	sortPolicies(out)
	return out
}

// ClusterOverlay returns the ClusterNetworkPolicies only environment env has.
func (s *Set) ClusterOverlay(env string) []*v1beta1.ClusterNetworkPolicy {
	for i, e := range s.Environments {
		if e == env && i < len(s.ClusterOverlays) {
			return s.ClusterOverlays[i]
		}
	}
	return nil
}

// RenderCluster returns every ClusterNetworkPolicy in force in env, sorted
// by name: what `kustomize build overlays/<env>` yields of them.
func (s *Set) RenderCluster(env string) []*v1beta1.ClusterNetworkPolicy {
	out := append([]*v1beta1.ClusterNetworkPolicy(nil), s.ClusterBase...)
	out = append(out, s.ClusterOverlay(env)...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// PluginObjects is what one environment's network plugin adds to its
// NetworkPolicies, and its rollout mode. Plugin objects are environment
// objects: the tree writes them in the environment's directory, never in a
// base shared with others.
type PluginObjects struct {
	// Env is the environment's name ("" for the implicit one).
	Env string
	// Plugin is the environment's plugin (schema.PluginKubernetes when the
	// project file sets none).
	Plugin schema.Plugin
	// Audit is mode: audit. On calico the environment's tree is then
	// standalone and every object in it staged (Staged); on cilium the
	// objects are the same as in enforce mode, and the agent's policy
	// audit mode decides whether they deny.
	Audit bool
	// Cilium are the environment's CiliumNetworkPolicies (plugin cilium:
	// one per service with unpinned host calls), sorted by (namespace,
	// name).
	Cilium []*CiliumNetworkPolicy
	// Calico are the environment's projectcalico.org/v3 NetworkPolicies
	// (plugin calico, log: denied: netdep-log-denied per isolated managed
	// namespace), sorted by namespace.
	Calico []*CalicoNetworkPolicy
}

// Staged says whether the environment writes every object staged (calico
// in audit mode): nothing netdep emits for it is enforced.
func (p *PluginObjects) Staged() bool {
	return p != nil && p.Audit && p.Plugin == schema.PluginCalico
}

// PluginObjects returns environment env's plugin objects and mode, nil
// when the set records none for it (plain v1, enforced).
func (s *Set) PluginObjects(env string) *PluginObjects {
	for i := range s.Plugins {
		if s.Plugins[i].Env == env {
			return &s.Plugins[i]
		}
	}
	return nil
}

// Staged says whether environment env is written staged (calico, mode:
// audit): its directory renders RenderStaged(env), and none of Render(env),
// RenderCluster(env), or its Calico objects are enforced.
func (s *Set) Staged(env string) bool { return s.PluginObjects(env).Staged() }

// RenderCilium returns env's CiliumNetworkPolicies.
func (s *Set) RenderCilium(env string) []*CiliumNetworkPolicy {
	if p := s.PluginObjects(env); p != nil {
		return p.Cilium
	}
	return nil
}

// RenderCalico returns env's projectcalico.org/v3 NetworkPolicies (as
// enforced ones; a staged environment writes them StagedNetworkPolicies).
func (s *Set) RenderCalico(env string) []*CalicoNetworkPolicy {
	if p := s.PluginObjects(env); p != nil {
		return p.Calico
	}
	return nil
}

// RenderStaged returns what a staged environment's directory holds: every
// NetworkPolicy of Render(env) as a StagedKubernetesNetworkPolicy and
// every Calico NetworkPolicy as a StagedNetworkPolicy, each sorted by
// (namespace, name). It returns nothing for an environment that is not
// staged.
func (s *Set) RenderStaged(env string) ([]*StagedKubernetesNetworkPolicy, []*StagedNetworkPolicy) {
	if !s.Staged(env) {
		return nil, nil
	}
	var knps []*StagedKubernetesNetworkPolicy
	for _, np := range s.Render(env) {
		knps = append(knps, StageKubernetes(np))
	}
	var cnps []*StagedNetworkPolicy
	for _, p := range s.RenderCalico(env) {
		cnps = append(cnps, StageCalico(p))
	}
	return knps, cnps
}
