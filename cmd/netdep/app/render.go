package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/kustomize"
)

// NewRenderCommand builds `netdep render`: one environment's policies on
// stdout, for generate-at-sync setups (an Argo CD Config Management Plugin)
// that do not commit the tree.
func NewRenderCommand(streams Streams) *cobra.Command {
	var env string
	cmd := &cobra.Command{
		Use:   "render [PATH...]",
		Short: "Print one environment's policies as multi-document YAML",
		Long: `Print exactly what 'kustomize build overlays/<env>' of the generated tree
would print, without writing the tree. Errors and warnings go to stderr only,
so stdout can be applied as it is.`,
		Example: `  netdep render --env prod examples/shop | kubectl apply -f -`,
		RunE: func(cmd *cobra.Command, args []string) error {
			out, err := generator.FromPaths(pathsOrDot(args))
			if err != nil {
				return err
			}
			if err := reportWarnings(out, false, streams.Err); err != nil {
				return err
			}
			dir := "base"
			switch {
			case env == "" && len(out.Spec.Environments) > 0:
				return usageError{fmt.Errorf("--env is required: the project declares %v", out.Spec.Environments)}
			case env != "":
				if err := checkEnv(out, env); err != nil {
					return err
				}
				dir = "overlays/" + env
			}
			b, err := kustomize.Render(out.Tree, dir)
			if err != nil {
				return err
			}
			_, err = streams.Out.Write(b)
			return err
		},
	}
	cmd.Flags().StringVar(&env, "env", "", "environment to render (required when the project declares environments)")
	registerEnvCompletion(cmd)
	return cmd
}
