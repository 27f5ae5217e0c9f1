package policy

import (
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	v1beta1 "sigs.k8s.io/network-policy-api/apis/v1beta1"
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
