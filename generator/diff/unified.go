package diff

import (
	"strings"

	"github.com/pmezard/go-difflib/difflib"
)

// contextLines is how much unchanged YAML surrounds a change, as in git.
const contextLines = 3

// unified returns the unified diff turning a into b, "" when they are equal.
// An empty side is written as /dev/null, as git does for added and deleted
// files.
func unified(a, b, fromFile, toFile string) string {
	if a == b {
		return ""
	}
	if a == "" {
		fromFile = "/dev/null"
	}
	if b == "" {
		toFile = "/dev/null"
	}
	d := difflib.UnifiedDiff{
		A:        lines(a),
		B:        lines(b),
		FromFile: fromFile,
		ToFile:   toFile,
		Context:  contextLines,
	}
	s, err := difflib.GetUnifiedDiffString(d)
	if err != nil {
		// Writing to a strings.Builder does not fail.
		panic(err)
	}
	return s
}

// lines splits s after each newline. difflib.SplitLines would add an empty
// last line to text that ends with a newline; a missing final newline is
// marked as diff(1) marks it.
func lines(s string) []string {
	if s == "" {
		return nil
	}
	out := strings.SplitAfter(s, "\n")
	if out[len(out)-1] == "" {
		return out[:len(out)-1]
	}
	out[len(out)-1] += "\n\\ No newline at end of file\n"
	return out
}
