package app

import (
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
)

// Shell completion is cobra's built-in `completion` command (bash, zsh, fish,
// powershell); this file adds the dynamic parts: environment names for
// --env, namespaces for --namespace, service names for explain's SRC and DST. Completion loads the
// dependency files as the command would, and offers nothing when they do not
// load: a half-typed command line is no place for error messages.

// registerEnvCompletion completes --env with the environments the project
// file under the command's PATH arguments declares.
func registerEnvCompletion(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("env", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		spec := completionSpec(pathArgs(cmd, args))
		if spec == nil || spec.Implicit() {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return filterPrefix(spec.EnvNames(), toComplete), cobra.ShellCompDirectiveNoFileComp
	})
}

// registerNamespaceCompletion completes --namespace with the namespaces
// netdep writes policies for.
func registerNamespaceCompletion(cmd *cobra.Command) {
	_ = cmd.RegisterFlagCompletionFunc("namespace", func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		spec := completionSpec(pathArgs(cmd, args))
		if spec == nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var names []string
		for _, ns := range spec.Namespaces {
			if ns.Managed {
				names = append(names, ns.Name)
			}
		}
		return filterPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
	})
}

// registerFixedCompletion completes a flag with a fixed list of values.
func registerFixedCompletion(cmd *cobra.Command, flag string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(flag, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// pathArgs are the PATH arguments among args: all of them, but for explain,
// whose first two arguments are SRC and DST.
func pathArgs(cmd *cobra.Command, args []string) []string {
	if cmd.Name() == "explain" {
		if len(args) <= 2 {
			return nil
		}
		return args[2:]
	}
	return args
}

// completeExplainArgs completes SRC and DST with ns/svc (and, after a colon,
// the destination's port names), then PATHs as files.
func completeExplainArgs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) >= 2 {
		return nil, cobra.ShellCompDirectiveDefault
	}
	spec := completionSpec(nil)
	if spec == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if id, _, ok := strings.Cut(toComplete, ":"); ok && len(args) == 1 {
		var out []string
		for _, s := range allServices(spec) {
			if s.ID() != id {
				continue
			}
			for _, p := range s.Ports {
				if p.Name != "" && !slices.Contains(out, id+":"+p.Name) {
					out = append(out, id+":"+p.Name)
				}
			}
		}
		return filterPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, s := range allServices(spec) {
		if !slices.Contains(out, s.ID()) {
			out = append(out, s.ID())
		}
	}
	for _, ns := range spec.Namespaces {
		out = append(out, ns.Name+"/*")
	}
	slices.Sort(out)
	return filterPrefix(out, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// allServices is every service of every namespace, in any environment.
func allServices(spec *schema.Spec) []*schema.Service {
	var out []*schema.Service
	for _, ns := range spec.Namespaces {
		out = append(out, ns.Services...)
	}
	return out
}

// completionSpec loads the spec under paths that exist (the current
// directory when none do), nil when it does not load.
func completionSpec(paths []string) *schema.Spec {
	var existing []string
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			existing = append(existing, p)
		}
	}
	out, err := generator.FromPaths(pathsOrDot(existing), generator.Options{SpecOnly: true})
	if err != nil || out == nil {
		return nil
	}
	return out.Spec
}

func filterPrefix(values []string, prefix string) []string {
	var out []string
	for _, v := range values {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}
