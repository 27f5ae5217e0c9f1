package app

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/kustomize"
)

// NewRenderCommand builds `netdep render`: one environment's policies on
// stdout, for generate-at-sync setups (an Argo CD Config Management Plugin)
// that do not commit the tree.
func NewRenderCommand(streams Streams) *cobra.Command {
	var env, namespace string
	var source *sourcePrefixFlag
	cmd := &cobra.Command{
		Use:   "render [PATH...]",
		Short: "Print one environment's policies as multi-document YAML",
		Long: `Print exactly what 'kustomize build overlays/<env>' of the generated tree
would print, without writing the tree. Errors and warnings go to stderr only,
so stdout can be applied as it is.

With --namespace, print only that namespace's policies: what building
overlays/<env>/<namespace> of the per-namespace layout prints, for one Argo
CD Application per namespace and environment. Either way the policies are
built namespace by namespace, which keeps an environment of 10,000 services
to seconds where one kustomize build of it takes many minutes.`,
		Example: `  netdep render --env prod examples/shop | kubectl apply -f -

  # one namespace, as a per-namespace Application renders it
  netdep render --env prod --namespace payments examples/shop`,
		RunE: func(cmd *cobra.Command, args []string) error {
			// The per-namespace layout holds the same policies in leaves
			// kustomize builds quickly; what is printed does not depend on
			// the layout the project writes.
			prefix, err := source.get()
			if err != nil {
				return err
			}
			out, err := generator.FromPaths(pathsOrDot(args), generator.Options{Layout: kustomize.LayoutPerNamespace.String(), SourcePrefix: prefix})
			if err != nil {
				return err
			}
			if err := reportWarnings(out, false, streams.Err); err != nil {
				return err
			}
			switch {
			case env == "" && !out.Spec.Implicit():
				return usageError{fmt.Errorf("--env is required: the project declares %v", out.Spec.EnvNames())}
			case env != "":
				if err := checkEnv(out, env); err != nil {
					return err
				}
			}
			dir := kustomize.EnvDir(env)
			leaves := kustomize.Leaves(out.Tree, dir)
			if namespace != "" {
				if !slices.Contains(leaves, namespace) {
					return usageError{fmt.Errorf("namespace %q has no policies in %s (namespaces with policies: %s)", namespace, dir, listSome(leaves))}
				}
				leaves = []string{namespace}
			}
			b, err := kustomize.RenderLeaves(out.Tree, dir, leaves)
			if err != nil {
				return err
			}
			_, err = streams.Out.Write(b)
			return err
		},
	}
	cmd.Flags().StringVar(&env, "env", "", "environment to render (required when the project declares environments)")
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "render only this namespace's policies")
	source = addSourcePrefixFlag(cmd)
	registerEnvCompletion(cmd)
	registerNamespaceCompletion(cmd)
	return cmd
}

// listSome names the first few of a long list.
func listSome(names []string) string {
	const max = 8
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
