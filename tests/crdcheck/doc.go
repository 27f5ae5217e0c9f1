// Package crdcheck validates the custom resources netdep emits (Cilium
// cilium.io/v2, Calico projectcalico.org/v3, network-policy-api
// policy.networking.k8s.io) against the plugins' published CRD schemas, with
// the API server's own code (k8s.io/apiextensions-apiserver v0.37.2): the
// structural schema with strict field validation (an unknown field is an
// error, where a non-strict API server would drop it silently), defaulting,
// the OpenAPI validation, embedded object meta, list types and the CEL
// x-kubernetes-validations rules, through the registry strategy the API
// server serves a CRD with.
//
// It is a separate, test-only module so that the product's go.mod never
// depends on apiextensions-apiserver. The CRDs are read from ../shared/crds
// beside the repository (never copied into it; tests skip where it is
// absent) and, for the v1alpha1 AdminNetworkPolicy and
// BaselineAdminNetworkPolicy, from generator/policy/testdata/v1alpha1/crd.
// See README.md.
package crdcheck
