package app

import (
	"bytes"
	"io"
	"slices"
	"testing"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
)

// TestWritingCommands: exactly the commands that write files are marked,
// so only their failures say that nothing was written.
func TestWritingCommands(t *testing.T) {
	var got []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if writes(c) {
			got = append(got, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(NewRootCommand(Streams{Out: io.Discard, Err: io.Discard}))
	slices.Sort(got)
	want := []string{"netdep generate", "netdep import flows", "netdep import policies", "netdep init"}
	if !slices.Equal(got, want) {
		t.Errorf("commands marked as writing files = %v, want %v", got, want)
	}
}

func TestExitCodeProblems(t *testing.T) {
	err := &generator.ProblemsError{Problems: schema.Problems{
		{Pos: schema.Pos{File: "a.yaml", Line: 1, Column: 2}, Message: "bad"},
		{Pos: schema.Pos{File: "b.yaml", Line: 3, Column: 4}, Message: "worse"},
	}}
	tests := []struct {
		name   string
		writes bool
		last   string
	}{
		{"a command that writes", true, "netdep: 2 errors, nothing written\n"},
		{"a command that only reads", false, "netdep: 2 errors\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if code := exitCode(err, tc.writes, "netdep", &stderr); code != ExitError {
				t.Errorf("exit code = %d, want %d", code, ExitError)
			}
			want := "a.yaml:1:2: bad\nb.yaml:3:4: worse\n" + tc.last
			if stderr.String() != want {
				t.Errorf("stderr = %q, want %q", stderr.String(), want)
			}
		})
	}
}
