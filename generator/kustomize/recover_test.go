package kustomize

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRecover sets up what an interrupted run can leave next to the output
// and checks the next Write repairs it, or refuses without deleting a file
// netdep did not write.
func TestRecover(t *testing.T) {
	old := mustBuild(t, map[string]string{"base/a.yaml": "old a", "base/b/c.yaml": "old c"})
	next := mustBuild(t, map[string]string{"base/a.yaml": "new a"})
	tests := []struct {
		name string
		// setup prepares parent/netpol and its siblings.
		setup func(t *testing.T, parent string)
		// restored: what recovery alone must leave at netpol (nil: no check).
		restored *Tree
		// wantErr: Write must fail with it and change nothing.
		wantErr error
		text    string
	}{
		{
			name: "unfinished new tree",
			setup: func(t *testing.T, parent string) {
				mustWrite(t, filepath.Join(parent, "netpol"), old)
				partial := filepath.Join(parent, scratchName("netpol"), newPrefix+"1")
				write(t, filepath.Join(partial, MarkerName), string(markerContent(next.Paths(), "")))
				write(t, filepath.Join(partial, "base", "a.yaml"), "new")
			},
			restored: &old,
		},
		{
			name: "marker cut short",
			setup: func(t *testing.T, parent string) {
				mustWrite(t, filepath.Join(parent, "netpol"), old)
				write(t, filepath.Join(parent, scratchName("netpol"), newPrefix+"1", MarkerName), "# This dir")
			},
			restored: &old,
		},
		{
			name: "killed between the two renames",
			setup: func(t *testing.T, parent string) {
				mustWrite(t, filepath.Join(parent, "netpol"), old)
				write(t, filepath.Join(parent, scratchName("netpol"), gitignoreName), scratchIgnore)
				if err := os.Rename(filepath.Join(parent, "netpol"), filepath.Join(parent, scratchName("netpol"), oldPrefix+"1")); err != nil {
					t.Fatal(err)
				}
				mustWriteRaw(t, filepath.Join(parent, scratchName("netpol"), newPrefix+"2"), next)
			},
			restored: &old,
		},
		{
			name: "killed before removing the old tree",
			setup: func(t *testing.T, parent string) {
				mustWrite(t, filepath.Join(parent, "netpol"), next)
				mustWriteRaw(t, filepath.Join(parent, scratchName("netpol"), oldPrefix+"1"), old)
			},
			restored: &next,
		},
		{
			name: "someone's file in a leftover",
			setup: func(t *testing.T, parent string) {
				mustWrite(t, filepath.Join(parent, "netpol"), old)
				left := filepath.Join(parent, scratchName("netpol"), oldPrefix+"1")
				mustWriteRaw(t, left, old)
				write(t, filepath.Join(left, "base", "notes.txt"), "mine")
			},
			wantErr: ErrNotOwned,
			text:    "base/notes.txt",
		},
		{
			name: "output missing, two earlier trees",
			setup: func(t *testing.T, parent string) {
				mustWriteRaw(t, filepath.Join(parent, scratchName("netpol"), oldPrefix+"1"), old)
				mustWriteRaw(t, filepath.Join(parent, scratchName("netpol"), oldPrefix+"2"), next)
			},
			text: "several earlier trees",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parent := t.TempDir()
			dir := filepath.Join(parent, "netpol")
			tt.setup(t, parent)
			if tt.restored != nil {
				// Recovery alone, as the next Write runs it under its lock.
				probe := t.TempDir()
				copyDir(t, parent, probe)
				if err := recoverLeftovers(OS{}, probe, "netpol"); err != nil {
					t.Fatal(err)
				}
				requireTree(t, filepath.Join(probe, "netpol"), *tt.restored)
				requireNoLeftovers(t, filepath.Join(probe, "netpol"))
			}
			before := snapshot(t, parent)
			err := Write(dir, next, WriteOptions{})
			if tt.text != "" {
				if err == nil || !strings.Contains(err.Error(), tt.text) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
					t.Fatalf("Write: %v, want an error mentioning %q", err, tt.text)
				}
				if d := cmp.Diff(before, snapshot(t, parent)); d != "" {
					t.Errorf("a refused Write changed the disk (-before +after):\n%s", d)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			requireTree(t, dir, next)
			requireNoLeftovers(t, dir)
		})
	}
}

// mustWriteRaw lays tree out at dir as-is, the way a run that died after
// writing it would have left it.
func mustWriteRaw(t *testing.T, dir string, tree Tree) {
	t.Helper()
	for _, p := range tree.Paths() {
		b, _ := tree.Get(p)
		write(t, filepath.Join(dir, filepath.FromSlash(p)), string(b))
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.Walk(from, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		write(t, filepath.Join(to, rel), string(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
