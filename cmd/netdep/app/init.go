package app

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/netdep/netdep/generator/scaffold"
)

type initOptions struct {
	namespace    string
	environments []string
	services     []string
	port         int
	noPrompt     bool
}

// NewInitCommand builds `netdep init`.
func NewInitCommand(streams Streams) *cobra.Command {
	o := &initOptions{}
	cmd := &cobra.Command{
		Use:         "init [DIR]",
		Annotations: writesFiles(),
		Short:       "Scaffold a project file and a first dependency file",
		Long: `Write DIR/netdep.yaml (the project file: environments and cluster settings)
and DIR/<namespace>/deps.yaml (a first dependency file) from netdep's
templates. DIR defaults to the current directory.

When stdin is a terminal, init asks for what the flags do not give; otherwise
the flags and their defaults are used as they are. init never overwrites a
file: if either exists, it writes nothing. The scaffold is checked to load
and generate before it is written.

With --environments "" there is no project file: one implicit environment,
and only a base in the generated tree.

Inside an existing project (a project file in DIR or a directory above it,
up to the repository root), init writes only the dependency file, with the
project's environments, and the next step generates the whole project.
When DIR is named after the namespace, the file is DIR/deps.yaml rather
than DIR/<namespace>/deps.yaml.`,
		Example: `  # ask interactively
  netdep init

  # in CI or a script: everything from flags
  netdep init platform/netdep --namespace shop --service frontend --service cart --environments dev,prod

  # then
  netdep generate platform/netdep --out platform/netdep/netpol

  # a second team joins the project: platform/netdep/payments/deps.yaml
  netdep init platform/netdep/payments --service api`,
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
			project, err := scaffold.FindProject(dir)
			if err != nil {
				return err
			}
			if project != nil {
				// One project file per run: a second would break generate.
				if cmd.Flags().Changed("environments") && !slices.Equal(sortedCopy(o.environments), project.Environments) {
					return usageError{fmt.Errorf("%s is inside the project of %s, which declares the environments %s; --environments is for a new project (edit %s to change them)",
						dir, project.File, strings.Join(project.Environments, ", "), project.File)}
				}
				o.environments = project.Environments
			}
			if !o.noPrompt && isTerminal(streams.In) {
				if err := o.prompt(cmd, dir, project != nil, streams); err != nil {
					return err
				}
			}
			if o.namespace == "" {
				o.namespace = scaffold.DefaultNamespace(dir)
			}
			if len(o.services) == 0 {
				o.services = []string{"app"}
			}
			files, err := scaffold.Render(scaffold.Options{
				Namespace: o.namespace, Environments: o.environments, Services: o.services, Port: o.port,
				Project: project, Dir: dir, Flat: filepath.Base(absOr(dir)) == o.namespace,
			})
			var invalid *scaffold.InvalidError
			if errors.As(err, &invalid) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			written, err := scaffold.Write(dir, files)
			if err != nil {
				return err
			}
			if project != nil {
				fmt.Fprintf(streams.Out, "using project file %s (environments %s)\n", project.File, strings.Join(project.Environments, ", "))
			}
			for _, f := range written {
				fmt.Fprintf(streams.Out, "wrote %s\n", f)
			}
			// generate reads the whole project: its directory, not the new one.
			root, what := dir, "them"
			if project != nil {
				root = project.Dir
			}
			if len(written) == 1 {
				what = "it"
			}
			fmt.Fprintf(streams.Out, "next: edit %s, then run netdep generate %s --out %s\n", what, root, filepath.ToSlash(filepath.Join(root, "netpol")))
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
func (o *initOptions) prompt(cmd *cobra.Command, dir string, inProject bool, streams Streams) error {
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
		if o.namespace, err = ask("namespace", scaffold.DefaultNamespace(dir)); err != nil {
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
	if !cmd.Flags().Changed("environments") && !inProject {
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

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// absOr is dir made absolute, or dir when that fails.
func absOr(dir string) string {
	if a, err := filepath.Abs(dir); err == nil {
		return a
	}
	return dir
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
