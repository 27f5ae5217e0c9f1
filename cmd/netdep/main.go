// Command netdep turns committed service dependencies into default-deny,
// least-privilege Kubernetes NetworkPolicies laid out for Kustomize.
package main

import (
	"os"

	"github.com/netdep/netdep/cmd/netdep/app"
)

func main() {
	os.Exit(app.Main(os.Args[1:], app.Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr}))
}
