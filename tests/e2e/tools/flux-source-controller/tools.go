//go:build tools

// Package tools pins the Flux source-controller that e2e runs; build it with
// `go build github.com/fluxcd/source-controller` in this directory.
package tools

import _ "github.com/fluxcd/source-controller"
