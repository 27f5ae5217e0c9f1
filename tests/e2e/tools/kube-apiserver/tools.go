//go:build tools

// Package tools pins the kube-apiserver that e2e runs; build it with
// `go build k8s.io/kubernetes/cmd/kube-apiserver` in this directory.
package tools

import _ "k8s.io/kubernetes/cmd/kube-apiserver"
