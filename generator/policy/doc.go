// Package policy turns a resolved schema.Spec into NetworkPolicies: per managed
// namespace a default-deny and an allow-dns (an allow-egress where only ingress
// is isolated), per service one least-privilege
// policy, split into what every environment shares (the base) and what one
// environment adds (its overlay).
//
// The package is pure: no I/O, no clock, no map iteration while emitting.
package policy
