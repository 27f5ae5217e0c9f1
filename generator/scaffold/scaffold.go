// Package scaffold writes a new project from netdep's templates: a project
// file and a first dependency file, checked to load and generate before
// anything is written. `netdep init` is its command.
package scaffold

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"text/template"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/templates"
)

// Options are what the scaffold is made of.
type Options struct {
	Namespace string
	// Environments of the project file; none means no project file (one
	// implicit environment).
	Environments []string
	Services     []string
	// Port is the port every service listens on, named http.
	Port int
	// Project, when set, is the existing project the dependency file
	// joins: no project file is written, Environments are the project's,
	// and the check loads the whole project with the new file.
	Project *Project
	// Dir is where the files go, relative to the working directory; with
	// Project, the new file is checked at its place in the project.
	Dir string
	// Flat writes the dependency file as deps.yaml directly in Dir, not in
	// Dir/<namespace>: Dir is already the namespace's own directory.
	Flat bool
}

// InvalidError lists every option that cannot make a scaffold: bad
// input, not a failure of netdep.
type InvalidError struct{ Problems []string }

func (e *InvalidError) Error() string { return strings.Join(e.Problems, "\n") }

// data is what the templates are executed with.
type data struct {
	SchemaURL    string
	Namespace    string
	Environments []string
	Services     []string
	Port         int
}

// DefaultNamespace is dir's name when it is a valid namespace name,
// "default" otherwise.
func DefaultNamespace(dir string) string {
	abs, err := filepath.Abs(dir)
	if err == nil {
		name := strings.ToLower(filepath.Base(abs))
		if len(validation.IsDNS1123Label(name)) == 0 {
			return name
		}
	}
	return "default"
}

// Render checks o, executes the templates and proves that the scaffold
// loads and generates. The files are keyed by slash paths relative to the
// project directory.
func Render(o Options) (map[string][]byte, error) {
	var bad []string
	check := func(what, name string) {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			bad = append(bad, fmt.Sprintf("%s %q: %s", what, name, strings.Join(errs, "; ")))
		}
	}
	check("namespace", o.Namespace)
	seen := map[string]bool{}
	for _, s := range o.Services {
		check("service", s)
		if schema.ReservedService(s) {
			bad = append(bad, fmt.Sprintf("service %q: the name of a namespace-wide policy or file of the tree; choose another", s))
		}
		if seen[s] {
			bad = append(bad, fmt.Sprintf("service %q given twice", s))
		}
		seen[s] = true
	}
	for _, e := range o.Environments {
		check("environment", e)
	}
	if o.Port < 1 || o.Port > 65535 {
		bad = append(bad, fmt.Sprintf("port %d out of range: expected 1 to 65535", o.Port))
	}
	if len(bad) > 0 {
		return nil, &InvalidError{Problems: bad}
	}
	d := data{SchemaURL: schema.URL, Namespace: o.Namespace, Environments: o.Environments, Services: o.Services, Port: o.Port}
	files := map[string][]byte{}
	exec := func(tmpl, out string) error {
		t, err := template.ParseFS(templates.FS, tmpl)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, d); err != nil {
			return fmt.Errorf("template %s: %w", tmpl, err)
		}
		files[out] = b.Bytes()
		return nil
	}
	if len(o.Environments) > 0 && o.Project == nil {
		if err := exec("project.yaml.tmpl", "netdep.yaml"); err != nil {
			return nil, err
		}
	}
	depsPath := path.Join(o.Namespace, "deps.yaml")
	if o.Flat {
		depsPath = "deps.yaml"
	}
	if err := exec("deps.yaml.tmpl", depsPath); err != nil {
		return nil, err
	}
	var in []schema.File
	if o.Project != nil {
		// The project as it is, plus the new file where it will be: a
		// namespace another file already declares, say, fails here.
		existing, probs := schema.ReadPaths([]string{o.Project.Dir})
		if errs := probs.Errors(); len(errs) > 0 {
			return nil, &generator.ProblemsError{Problems: probs}
		}
		in = existing
	}
	for _, p := range sortedKeys(files) {
		shown := p
		if o.Dir != "" {
			shown = path.Join(filepath.ToSlash(o.Dir), p)
		}
		if _, err := os.Lstat(filepath.FromSlash(shown)); err == nil {
			continue // Write refuses it; the existing file is already in
		}
		in = append(in, schema.File{Path: shown, Data: files[p], Explicit: true})
	}
	if _, err := generator.FromFiles(in); err != nil {
		if o.Project != nil {
			return nil, fmt.Errorf("the new dependency file does not generate with project %s: %w", o.Project.File, err)
		}
		return nil, fmt.Errorf("the scaffold does not generate (a bug in netdep's templates): %w", err)
	}
	return files, nil
}

// Write writes files under dir, refusing to overwrite anything: when one of
// them exists, nothing is written. It returns the paths written.
func Write(dir string, files map[string][]byte) ([]string, error) {
	var exist []string
	for _, p := range sortedKeys(files) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if _, err := os.Lstat(full); err == nil {
			exist = append(exist, full)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
	}
	if len(exist) > 0 {
		return nil, fmt.Errorf("%s already exists; init never overwrites (remove it or choose another DIR)", strings.Join(exist, " and "))
	}
	var written []string
	for _, p := range sortedKeys(files) {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return written, err
		}
		f, err := os.OpenFile(full, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return written, err
		}
		if _, err := f.Write(files[p]); err != nil {
			f.Close()
			return written, err
		}
		if err := f.Close(); err != nil {
			return written, err
		}
		written = append(written, filepath.ToSlash(full))
	}
	return written, nil
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
