package app

import (
	"bytes"
	"strings"
	"testing"
)

// TestFormatFlagIsOneFlag: every command with --format refuses a format it
// does not have in the same words, before doing any work, with exit 2.
func TestFormatFlagIsOneFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"verify", "--format", "yaml"}, `--format must be text or json, not "yaml"`},
		{[]string{"import", "drift", "--observed", "x.json", "--format", "yaml"}, `--format must be text or json, not "yaml"`},
		{[]string{"graph", "--format", "yaml"}, `--format must be mermaid or dot, not "yaml"`},
		{[]string{"diff", "--base", "main", "--format", "yaml"}, `--format must be text, markdown or json, not "yaml"`},
	} {
		var out, errOut bytes.Buffer
		code := Main(tc.args, Streams{In: strings.NewReader(""), Out: &out, Err: &errOut})
		if code != ExitError || !strings.Contains(errOut.String(), tc.want) || out.Len() > 0 {
			t.Errorf("netdep %s: exit %d, stdout %q, stderr %q; want exit 2 and %q", strings.Join(tc.args, " "), code, out.String(), errOut.String(), tc.want)
		}
	}
}
