package app

import (
	"bytes"
	"os"
	"testing"
)

// TestProgressOnlyOnTerminals: progress lines never reach a pipe, a file or
// a quieted run, so scripts and CI logs see only results.
func TestProgressOnlyOnTerminals(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for name, p := range map[string]func(string){
		"buffer":     progress(&bytes.Buffer{}, false),
		"file":       progress(f, false),
		"quiet":      progress(os.Stderr, true),
		"quiet+file": progress(f, true),
	} {
		if p != nil {
			t.Errorf("%s: progress printer enabled off a terminal", name)
		}
	}
}
