package scaffold

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Project is an existing netdep project that a new dependency file joins:
// init then writes no second project file (a run reads at most one, so a
// second would break generate) and takes its environments.
type Project struct {
	// Dir holds the project file, as a path relative to the directory init
	// runs in ("." or "..", "platform/netdep").
	Dir string
	// File is the project file, relative like Dir.
	File string
	// Environments are those the project file declares, sorted.
	Environments []string
}

// FindProject looks for the project file that governs dir: a netdep file
// whose document declares environments, in dir or the nearest directory
// above it, up to the root of the git working tree (a directory with .git)
// or of the file system. It returns nil when there is none.
func FindProject(dir string) (*Project, error) {
	cwd, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	for d := abs; ; {
		file, envs, err := projectFileIn(d)
		if err != nil {
			return nil, err
		}
		if file != "" {
			rel := func(p string) string {
				if r, err := filepath.Rel(cwd, p); err == nil {
					return filepath.ToSlash(r)
				}
				return filepath.ToSlash(p)
			}
			return &Project{Dir: rel(d), File: rel(file), Environments: envs}, nil
		}
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return nil, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return nil, nil
		}
		d = parent
	}
}

// projectFileIn is the project file directly in dir (not below it), with
// its environments, or "".
func projectFileIn(dir string) (string, []string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml")) {
			continue
		}
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err != nil {
			return "", nil, err
		}
		if envs, ok := projectEnvironments(b); ok {
			return p, envs, nil
		}
	}
	return "", nil, nil
}

// projectEnvironments reports whether data holds a netdep project document
// (netdep: v1 and environments), and its environments. Anything that does
// not decode is not one: the loader, not init, reports bad files.
func projectEnvironments(data []byte) ([]string, bool) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc struct {
			Netdep       string         `yaml:"netdep"`
			Environments map[string]any `yaml:"environments"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) || err != nil && !isTypeError(err) {
			return nil, false
		}
		if doc.Netdep == "v1" && doc.Environments != nil {
			var envs []string
			for e := range doc.Environments {
				envs = append(envs, e)
			}
			slices.Sort(envs)
			return envs, true
		}
	}
}

func isTypeError(err error) bool {
	var te *yaml.TypeError
	return errors.As(err, &te)
}
