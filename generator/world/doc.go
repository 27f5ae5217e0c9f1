// Package world owns the probe world of netdep's exactness guarantee
// (PRODUCT.md section 4): for one environment, one pod per declared service,
// one unlabelled pod per namespace (and one in a namespace nobody declares,
// OutsideNamespace), one pod per raw-peer and DNS selector, and the address
// prefixes every CIDR of the dependency files names.
//
// verify checks policies over it, diff evaluates both sides of a change over
// it, explain answers questions about it, and import names the pods of its
// own universe as it names them. Its pods have one name in every output:
// "ns/service", "ns/(unlabelled)", "ns/(pods k=v,...)".
package world
