package app

import (
	"bytes"
	"strings"
	"testing"
)

// TestFormatFlagIsOneFlag: every command with -o/--output refuses a format
// it does not have in the same words, before doing any work, with exit 2,
// and points at its own --help. The hidden --format alias is the same flag.
func TestFormatFlagIsOneFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "-o", "yaml"}, "-o/--output must be text or json, not \"yaml\"\nRun 'netdep verify --help' for usage.\n"},
		{[]string{"verify", "--output", "yaml"}, "-o/--output must be text or json, not \"yaml\"\nRun 'netdep verify --help' for usage.\n"},
		{[]string{"verify", "--format", "yaml"}, "-o/--output must be text or json, not \"yaml\"\nRun 'netdep verify --help' for usage.\n"},
		{[]string{"import", "drift", "--observed", "x.json", "-o", "yaml"}, "-o/--output must be text or json, not \"yaml\"\nRun 'netdep import drift --help' for usage.\n"},
		{[]string{"graph", "-o", "yaml"}, "-o/--output must be mermaid or dot, not \"yaml\"\nRun 'netdep graph --help' for usage.\n"},
		{[]string{"diff", "--base", "main", "-o", "yaml"}, "-o/--output must be text, markdown or json, not \"yaml\"\nRun 'netdep diff --help' for usage.\n"},
		{[]string{"generate", "-o", "netpol"}, "unknown shorthand flag: 'o' in -o (-o is the output format, and netdep generate has none; the output directory is --out)\nRun 'netdep generate --help' for usage.\n"},
	} {
		var out, errOut bytes.Buffer
		code := Main(tc.args, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
		if code != ExitError || !strings.HasSuffix(errOut.String(), tc.want) || out.Len() > 0 {
			t.Errorf("netdep %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, out.String(), errOut.String(), tc.want)
		}
	}
}

// TestFormatAliasHidden: --format still works (CI configs written before
// -o was the format) but --help shows only -o/--output.
func TestFormatAliasHidden(t *testing.T) {
	var out bytes.Buffer
	Main([]string{"verify", "--help"}, Streams{In: strings.NewReader(""), Out: &out, Err: &out})
	if !strings.Contains(out.String(), "-o, --output string") || strings.Contains(out.String(), "--format") {
		t.Errorf("netdep verify --help shows:\n%s\nwant -o, --output and no --format", out.String())
	}
}
