package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
)

// formatFlag is -o/--output: one of a command's output formats, the first
// being the default. Every command that has one registers it here, so the
// flag reads, completes and refuses alike everywhere. -o is the output
// format as in kubectl and helm; the output directory is always --out.
type formatFlag struct {
	value   string
	allowed []string
}

// addFormatFlag registers -o/--output on cmd, and --format as a hidden
// alias (the flag's name before -o became the format: CI configs written
// then keep working); what describes the formats for --help (e.g.
// "markdown (a pull-request comment)"), or "" for their names alone.
func addFormatFlag(cmd *cobra.Command, what string, allowed ...string) *formatFlag {
	f := &formatFlag{value: allowed[0], allowed: allowed}
	if what == "" {
		what = orList(allowed)
	}
	cmd.Flags().StringVarP(&f.value, "output", "o", allowed[0], "output format: "+what)
	cmd.Flags().StringVar(&f.value, "format", allowed[0], "deprecated: use -o/--output")
	_ = cmd.Flags().MarkHidden("format")
	registerFixedCompletion(cmd, "output", allowed...)
	registerFixedCompletion(cmd, "format", allowed...)
	return f
}

// check refuses a format the command does not have.
func (f *formatFlag) check() error {
	if !slices.Contains(f.allowed, f.value) {
		return usageError{fmt.Errorf("-o/--output must be %s, not %q", orList(f.allowed), f.value)}
	}
	return nil
}

func orList(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}
