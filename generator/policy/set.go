package policy

import (
	networkingv1 "k8s.io/api/networking/v1"
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
)

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
