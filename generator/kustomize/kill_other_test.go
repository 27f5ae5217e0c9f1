//go:build !unix

package kustomize

import "os"

func killSelf() { os.Exit(137) }
