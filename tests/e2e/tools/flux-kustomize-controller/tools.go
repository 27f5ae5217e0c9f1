//go:build tools

// Package tools pins the Flux kustomize-controller that e2e runs; build it
// with `go build github.com/fluxcd/kustomize-controller` in this directory.
package tools

import _ "github.com/fluxcd/kustomize-controller"
