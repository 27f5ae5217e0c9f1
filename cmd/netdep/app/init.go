package app

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/template"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
	"github.com/netdep/netdep/templates"
)

type initOptions struct {
	namespace    string
	environments []string
	services     []string
	port         int
	noPrompt     bool
}

// scaffold is what the templates are executed with.
type scaffold struct {
	SchemaURL    string
	Namespace    string
	Environments []string
	Services     []string
	Port         int
}

// NewInitCommand builds `netdep init`.
func NewInitCommand(streams Streams) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:   "init [DIR]",
		Short: "Scaffold a project file and a first dependency file",
		Long: `Write DIR/netdep.yaml (the project file: environments and cluster settings)
and DIR/<namespace>/deps.yaml (a first dependency file) from netdep's
templates. DIR defaults to the current directory.

When stdin is a terminal, init asks for what the flags do not give; otherwise
the flags and their defaults are used as they are. init never overwrites a
file: if either exists, it writes nothing. The scaffold is checked to load
and generate before it is written.

With --environments "" there is no project file: one implicit environment,
and only a base in the generated tree.`,
		Example: `  # ask interactively
  netdep init

  # in CI or a script: everything from flags
  netdep init platform/netdep --namespace shop --service frontend --service cart --environments dev,prod

  # then
  netdep generate platform/netdep --out platform/netdep/netpol`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("init takes at most one DIR, found %d arguments", len(args))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			if !o.noPrompt && isTerminal(streams.In) {
				if err := o.prompt(cmd, dir, streams); err != nil {
					return err
				}
			}
			if o.namespace == "" {
				o.namespace = defaultNamespace(dir)
			}
			if len(o.services) == 0 {
				o.services = []string{"app"}
			}
			files, err := o.render()
			if err != nil {
				return err
			}
			written, err := writeScaffold(dir, files)
			if err != nil {
				return err
			}
			for _, f := range written {
				fmt.Fprintf(streams.Out, "wrote %s\n", f)
			}
			fmt.Fprintf(streams.Out, "next: edit them, then run netdep generate %s --out %s\n", dir, filepath.ToSlash(filepath.Join(dir, "netpol")))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.namespace, "namespace", "", "namespace of the first dependency file (default: DIR's name)")
	cmd.Flags().StringSliceVar(&o.environments, "environments", []string{"dev", "prod"}, `environments of the project file; "" for none (no project file)`)
	cmd.Flags().StringArrayVar(&o.services, "service", nil, "a service of the namespace (repeat for more; default: app)")
	cmd.Flags().IntVar(&o.port, "port", 8080, "the port every scaffolded service listens on (named http)")
	cmd.Flags().BoolVar(&o.noPrompt, "no-prompt", false, "never ask, even on a terminal")
	return cmd
}

// isTerminal reports whether r is a terminal, the only case where init
// asks questions (a character device is not enough: /dev/null is one).
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// prompt asks for every value not set by a flag; an empty answer keeps the
// default shown in brackets.
func (o *initOptions) prompt(cmd *cobra.Command, dir string, streams Streams) error {
	in := bufio.NewReader(streams.In)
	ask := func(question, def string) (string, error) {
		fmt.Fprintf(streams.Out, "%s [%s]: ", question, def)
		line, err := in.ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			if errors.Is(err, io.EOF) {
				return def, nil
			}
			return "", err
		}
		if line = strings.TrimSpace(line); line != "" {
			return line, nil
		}
		return def, nil
	}
	var err error
	if !cmd.Flags().Changed("namespace") {
		if o.namespace, err = ask("namespace", defaultNamespace(dir)); err != nil {
			return err
		}
	}
	if !cmd.Flags().Changed("service") {
		s, err := ask("services (comma-separated)", "app")
		if err != nil {
			return err
		}
		o.services = splitList(s)
	}
	if !cmd.Flags().Changed("port") {
		s, err := ask("port they listen on", strconv.Itoa(o.port))
		if err != nil {
			return err
		}
		if o.port, err = strconv.Atoi(s); err != nil {
			return usageError{fmt.Errorf("port %q: expected a number from 1 to 65535", s)}
		}
	}
	if !cmd.Flags().Changed("environments") {
		s, err := ask(`environments (comma-separated, "-" for none)`, strings.Join(o.environments, ","))
		if err != nil {
			return err
		}
		if s == "-" {
			s = ""
		}
		o.environments = splitList(s)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// defaultNamespace is DIR's name when it is a valid namespace name.
func defaultNamespace(dir string) string {
	abs, err := filepath.Abs(dir)
	if err == nil {
		name := strings.ToLower(filepath.Base(abs))
		if len(validation.IsDNS1123Label(name)) == 0 {
			return name
		}
	}
	return "default"
}

// render checks the answers, executes the templates and proves that the
// scaffold loads and generates. Paths are slash paths relative to DIR.
func (o *initOptions) render() (map[string][]byte, error) {
	var bad []string
	check := func(what, name string) {
		if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
			bad = append(bad, fmt.Sprintf("%s %q: %s", what, name, strings.Join(errs, "; ")))
		}
	}
	check("namespace", o.namespace)
	seen := map[string]bool{}
	for _, s := range o.services {
		check("service", s)
		if s == "default-deny" || s == "allow-dns" {
			bad = append(bad, fmt.Sprintf("service %q: the name of a namespace-wide policy; choose another", s))
		}
		if seen[s] {
			bad = append(bad, fmt.Sprintf("service %q given twice", s))
		}
		seen[s] = true
	}
	for _, e := range o.environments {
		check("environment", e)
	}
	if o.port < 1 || o.port > 65535 {
		bad = append(bad, fmt.Sprintf("port %d out of range: expected 1 to 65535", o.port))
	}
	if len(bad) > 0 {
		return nil, usageError{errors.New(strings.Join(bad, "\n"))}
	}
	data := scaffold{SchemaURL: schema.URL, Namespace: o.namespace, Environments: o.environments, Services: o.services, Port: o.port}
	files := map[string][]byte{}
	exec := func(tmpl, out string) error {
		t, err := template.ParseFS(templates.FS, tmpl)
		if err != nil {
			return err
		}
		var b bytes.Buffer
		if err := t.Execute(&b, data); err != nil {
			return fmt.Errorf("template %s: %w", tmpl, err)
		}
		files[out] = b.Bytes()
		return nil
	}
	if len(o.environments) > 0 {
		if err := exec("project.yaml.tmpl", "netdep.yaml"); err != nil {
			return nil, err
		}
	}
	if err := exec("deps.yaml.tmpl", path.Join(o.namespace, "deps.yaml")); err != nil {
		return nil, err
	}
	var in []schema.File
	for _, p := range sortedKeys(files) {
		in = append(in, schema.File{Path: p, Data: files[p], Explicit: true})
	}
	if _, err := generator.FromFiles(in); err != nil {
		return nil, fmt.Errorf("the scaffold does not generate (a bug in netdep's templates): %w", err)
	}
	return files, nil
}

// writeScaffold writes files under dir, refusing to overwrite anything: when
// one of them exists, nothing is written.
func writeScaffold(dir string, files map[string][]byte) ([]string, error) {
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
