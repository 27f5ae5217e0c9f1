package kustomize

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"strings"
	"syscall"
)

// RecordedLayout returns the layout the tree at dir was generated in, in
// the words Options of the pipeline take (generator.Options.TreeLayout):
// "environment" or "namespace" when the marker records a layout someone
// chose (the --layout flag or the project file), and "" when the size rule
// chose it, when dir holds no tree yet, or when the marker predates the
// layout line and the files show the default layout. Regenerating with it
// is what makes a fresh tree compare equal, whatever it was written with.
//
// A marker written before it recorded the layout is read by what it lists:
// a base/<namespace>/kustomization.yaml is the per-namespace layout's mark.
func RecordedLayout(dir string) (string, error) {
	return recordedLayout(OS{}, dir)
}

func recordedLayout(fsys FS, dir string) (string, error) {
	name := filepath.Join(dir, MarkerName)
	data, err := fsys.ReadFile(name)
	switch {
	case errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR):
		return "", nil
	case err != nil:
		return "", err
	}
	paths, err := parseMarker(data)
	if err != nil {
		// Not netdep's marker: nothing recorded. Write refuses such a
		// directory on its own, and Compare shows what differs.
		return "", nil
	}
	for _, l := range strings.Split(string(data), "\n") {
		v, ok := strings.CutPrefix(l, layoutPrefix)
		if !ok {
			continue
		}
		v, auto := strings.CutSuffix(v, autoSuffix)
		layout, err := ParseLayout(v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		if auto {
			return "", nil
		}
		return layout.String(), nil
	}
	for _, p := range paths {
		if dir, file := path.Split(p); file == kustomizationFile && path.Dir(strings.TrimSuffix(dir, "/")) == EnvDir("") {
			return LayoutPerNamespace.String(), nil
		}
	}
	return "", nil
}
