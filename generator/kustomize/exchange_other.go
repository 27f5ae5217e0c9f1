//go:build !linux

package kustomize

import "fmt"

// exchange is Linux-only (renameat2); elsewhere Write swaps with two renames
// and a crash between them is repaired by the next run.
func exchange(a, b string) error {
	return fmt.Errorf("exchange %s and %s: %w", a, b, ErrExchangeUnsupported)
}
