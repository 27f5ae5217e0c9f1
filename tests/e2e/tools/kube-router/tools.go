//go:build tools

// Package tools pins the kube-router that e2e runs; build it with
// `go build github.com/cloudnativelabs/kube-router/v2/cmd/kube-router` here.
package tools

import _ "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router"
