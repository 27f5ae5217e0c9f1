package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// formatFlag is --format: one of a command's output formats, the first
// being the default. Every command that has one registers it here, so the
// flag reads, completes and refuses alike everywhere.
type formatFlag struct {
	value   string
	allowed []string
}

// addFormatFlag registers --format on cmd; what describes the formats
// for --help (e.g. "markdown (a pull-request comment)"), or "" for their
// names alone.
func addFormatFlag(cmd *cobra.Command, what string, allowed ...string) *formatFlag {
	f := &formatFlag{value: allowed[0], allowed: allowed}
	if what == "" {
		what = orList(allowed)
	}
	cmd.Flags().StringVar(&f.value, "format", allowed[0], "output format: "+what)
	registerFixedCompletion(cmd, "format", allowed...)
	return f
}

// check refuses a format the command does not have.
func (f *formatFlag) check() error {
	if !slices.Contains(f.allowed, f.value) {
		return usageError{fmt.Errorf("--format must be %s, not %q", orList(f.allowed), f.value)}
	}
	return nil
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
