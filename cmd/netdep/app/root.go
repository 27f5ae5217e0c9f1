package app

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
)

// Streams are the standard streams a command reads and writes; tests pass
// buffers.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
}

// Exit codes, kubectl diff's convention.
const (
	ExitOK        = 0
	ExitDifferent = 1
	ExitError     = 2
	// ExitRisk is diff --fail-on's: an added flow of a chosen risk class.
	ExitRisk = 3
)

// errDifferent reports "the answer is: there are differences" (exit 1). The
// command has already printed what differs.
var errDifferent = errors.New("differences found")

// errRisk reports that an added flow falls in a risk class --fail-on
// names (exit 3). The command has already printed the flows.
var errRisk = errors.New("risk found")

// usageError is a mistake on the command line (exit 2, with a usage hint).
type usageError struct{ error }

// Main runs netdep with args and returns the process exit code.
func Main(args []string, streams Streams) int {
	root := NewRootCommand(streams)
	finish := addProfileFlags(root)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if perr := finish(); perr != nil && err == nil {
		err = fmt.Errorf("writing the profile: %w", perr)
	}
	help := "netdep"
	if cmd != nil {
		help = cmd.CommandPath()
	}
	return exitCode(err, writes(cmd), help, streams.Err)
}

// writesAnnotation marks, in cobra.Command.Annotations, a command that
// writes files: when problems stop it, its last line says that nothing
// was written. Commands that only read and print do not say it.
const writesAnnotation = "netdep/writes-files"

// writesFiles is the Annotations of a command that writes files.
func writesFiles() map[string]string { return map[string]string{writesAnnotation: "true"} }

func writes(cmd *cobra.Command) bool {
	return cmd != nil && cmd.Annotations[writesAnnotation] == "true"
}

// exitCode prints what err says and returns the exit code; writes is
// whether the command that failed writes files, and command its path
// ("netdep verify"), whose --help a usage error points at.
func exitCode(err error, writes bool, command string, stderr io.Writer) int {
	var pe *generator.ProblemsError
	var problems schema.Problems // a manifest reader's, at their positions
	if errors.As(err, &pe) {
		problems = pe.Problems
	} else if !errors.As(err, &problems) {
		problems = nil
	}
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, errDifferent):
		return ExitDifferent
	case errors.Is(err, errRisk):
		return ExitRisk
	case len(problems) > 0:
		for i, p := range problems {
			if i == maxShown {
				fmt.Fprintf(stderr, "netdep: %d more problems not shown\n", len(problems)-maxShown)
				break
			}
			fmt.Fprintln(stderr, p.String())
		}
		n := len(problems.Errors())
		fmt.Fprintf(stderr, "netdep: %d %s", n, plural(n, "error", "errors"))
		if writes {
			fmt.Fprint(stderr, ", nothing written")
		}
		fmt.Fprintln(stderr)
		return ExitError
	default:
		fmt.Fprintf(stderr, "netdep: %v\n", err)
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", command)
		}
		return ExitError
	}
}

// maxShown bounds the problems printed: every one of them is on stderr up
// to here (each line clipped, see schema.Problem.String), and a run with
// tens of thousands (a generated file gone wrong) does not bury the
// terminal or the CI log under megabytes.
const maxShown = 500

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// NewRootCommand builds a fresh command tree; nothing is kept in package
// variables, so tests can build as many as they like.
func NewRootCommand(streams Streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "netdep",
		Short: "Turn service dependencies into least-privilege NetworkPolicies",
		Long: `netdep reads the dependency files teams commit next to their code (which
services an app calls, on which ports) and writes default-deny plus
least-privilege NetworkPolicies as a Kustomize base with one overlay per
environment, ready for Argo CD or Flux.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		// kubectl and helm habit: -o is the output format. Where a command
		// has none, say where the directory went.
		if strings.Contains(err.Error(), "unknown shorthand flag: 'o'") && cmd.Flags().Lookup("out") != nil {
			err = fmt.Errorf("%w (-o is the output format, and %s has none; the output directory is --out)", err, cmd.CommandPath())
		}
		return usageError{err}
	})
	root.AddCommand(
		NewGenerateCommand(streams),
		NewDiffCommand(streams),
		NewVerifyCommand(streams),
		NewRenderCommand(streams),
		NewVersionCommand(streams),
		NewImportCommand(streams),
		NewGraphCommand(streams),
		NewExplainCommand(streams),
		NewReportCommand(streams),
		NewInitCommand(streams),
	)
	return root
}

// pathsOrDot applies "PATH defaults to the current directory".
func pathsOrDot(args []string) []string {
	if len(args) == 0 {
		return []string{"."}
	}
	return args
}

// reportWarnings prints warnings and, with strict, turns them into errors.
// Notes (an exception close to its expiry) are printed and fail nothing.
func reportWarnings(out *generator.Output, strict bool, stderr io.Writer) error {
	return reportProblems(out.Warnings, strict, stderr)
}

func reportProblems(warnings schema.Problems, strict bool, stderr io.Writer) error {
	var failing schema.Problems
	for _, w := range warnings {
		if strict && !w.Note {
			w.Warning = false
			failing = append(failing, w)
		}
	}
	if len(failing) > 0 {
		return &generator.ProblemsError{Problems: failing}
	}
	for _, w := range warnings {
		fmt.Fprintln(stderr, w.String())
	}
	return nil
}

// progress returns a printer of progress lines for long runs: on stderr,
// only when stderr is a terminal and not quieted, each line with the time
// since the command started.
func progress(stderr io.Writer, quiet bool) func(string) {
	f, ok := stderr.(*os.File)
	if quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	start := time.Now()
	return func(stage string) {
		fmt.Fprintf(stderr, "netdep: %s (%.1fs)\n", stage, time.Since(start).Seconds())
	}
}

// checkEnv is a usage error for an environment the project does not declare.
func checkEnv(out *generator.Output, env string) error {
	if out.Spec.Environment(env) == nil {
		if out.Spec.Implicit() {
			return usageError{fmt.Errorf("unknown environment %q (there is no project file, so no environments)", env)}
		}
		return usageError{fmt.Errorf("unknown environment %q (the project declares %v)", env, out.Spec.EnvNames())}
	}
	return nil
}

// selectEnvs returns the environments a command works on: the one --env
// names, or every environment of the run.
func selectEnvs(out *generator.Output, env string) ([]string, error) {
	if env == "" {
		return out.Spec.EnvNames(), nil
	}
	if err := checkEnv(out, env); err != nil {
		return nil, err
	}
	return []string{env}, nil
}
