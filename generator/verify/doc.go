// Package verify owns netdep's exactness guarantee (PRODUCT.md section 4):
// over a world of one pod per declared service, an unlabelled pod per
// namespace, a namespace nobody manages, the pods raw peers and DNS name and
// the address classes of every CIDR, the connections a set of
// NetworkPolicies allows (package eval) must be exactly the connections the
// dependency files declare, nothing missing and nothing extra.
//
// The declared side is computed from the spec's rules alone, never from a
// generated policy, so a bug in the generator cannot hide itself.
package verify
