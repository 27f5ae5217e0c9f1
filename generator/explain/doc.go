// Package explain owns `netdep explain`: reading SRC and DST[:PORT[/PROTO]]
// as a person writes them (ns/svc, svc, ns/*, ns/{k=v}, an address) against
// one environment of a spec, evaluating that connection with package eval
// over the probe world verify checks (package world), and saying in words which policies isolate each end
// and which rules admit the connection, or that none does.
//
// It is pure: the caller loads the spec and the policies and writes the
// text; nothing here reads files or prints.
package explain
