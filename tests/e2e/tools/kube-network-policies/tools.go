//go:build tools

// Package tools pins the kube-network-policies that e2e runs; build it with
// `go build sigs.k8s.io/kube-network-policies/cmd` in this directory.
package tools

import _ "sigs.k8s.io/kube-network-policies/cmd"
