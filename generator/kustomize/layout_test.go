package kustomize

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEnvDir(t *testing.T) {
	for env, want := range map[string]string{"": "base", "dev": "overlays/dev"} {
		if got := EnvDir(env); got != want {
			t.Errorf("EnvDir(%q) = %q, want %q", env, got, want)
		}
	}
	// What EnvDir names is what Build writes, in both layouts.
	for _, layout := range []Layout{LayoutPerEnvironment, LayoutPerNamespace} {
		tree, err := BuildWithOptions(testSet(), Options{Layout: layout})
		if err != nil {
			t.Fatal(err)
		}
		for _, env := range append([]string{""}, testSet().Environments...) {
			if _, ok := tree.Get(EnvDir(env) + "/" + kustomizationFile); !ok {
				t.Errorf("%v: no kustomization at %s", layout, EnvDir(env))
			}
		}
	}
}

// TestRecordedLayout: the layout a tree was built in comes back from its
// marker on disk, except a layout the size rule chose, which regenerating
// should choose again.
func TestRecordedLayout(t *testing.T) {
	for _, tt := range []struct {
		name string
		opts Options
		want string
	}{
		{"environment", Options{Layout: LayoutPerEnvironment}, "environment"},
		{"namespace", Options{Layout: LayoutPerNamespace}, "namespace"},
		{"auto-environment", Options{Layout: LayoutPerEnvironment, Auto: true}, ""},
		{"auto-namespace", Options{Layout: LayoutPerNamespace, Auto: true}, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tree, err := BuildWithOptions(testSet(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			dir := filepath.Join(t.TempDir(), "netpol")
			if err := Write(dir, tree, WriteOptions{}); err != nil {
				t.Fatal(err)
			}
			got, err := RecordedLayout(dir)
			if err != nil || got != tt.want {
				t.Errorf("RecordedLayout = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestRecordedLayoutMarkers(t *testing.T) {
	head := strings.Join(markerHeader, "\n") + "\n"
	for _, tt := range []struct {
		name, marker string
		want         string
		err          string
	}{
		{"namespace", head + "# layout: namespace\nbase/kustomization.yaml\n", "namespace", ""},
		{"auto", head + "# layout: namespace (auto)\nbase/a/kustomization.yaml\n", "", ""},
		{"legacy-environment", head + "base/a/p.yaml\nbase/kustomization.yaml\n", "", ""},
		{"legacy-namespace", head + "base/a/kustomization.yaml\nbase/a/p.yaml\nbase/kustomization.yaml\n", "namespace", ""},
		{"legacy-header", legacyMarkerHeader + "\nbase/a/kustomization.yaml\n", "namespace", ""},
		{"overlay-only-is-not-the-mark", head + "overlays/dev/kustomization.yaml\nbase/kustomization.yaml\n", "", ""},
		{"unknown", head + "# layout: sharded\n", "", `.netdep-tree: unknown layout "sharded" (want environment or namespace)`},
		{"not-a-marker", "hello\n", "", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			write(t, filepath.Join(dir, MarkerName), tt.marker)
			got, err := RecordedLayout(dir)
			if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.HasSuffix(err.Error(), tt.err) {
				t.Errorf("RecordedLayout = %q, %v; want %q, %q", got, err, tt.want, tt.err)
			}
		})
	}
	t.Run("no-tree", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "file")
		write(t, file, "x")
		for _, dir := range []string{filepath.Join(t.TempDir(), "missing"), t.TempDir(), file} {
			if got, err := RecordedLayout(dir); got != "" || err != nil {
				t.Errorf("RecordedLayout(%s) = %q, %v; want nothing", dir, got, err)
			}
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.Mkdir(filepath.Join(dir, MarkerName), 0o755); err != nil {
			t.Fatal(err)
		}
		if _, err := RecordedLayout(dir); err == nil {
			t.Errorf("a marker that is a directory read as no marker")
		}
	})
}
