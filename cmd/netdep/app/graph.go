package app

import (
	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/graph"
)

type graphOptions struct {
	env    string
	format *formatFlag
}

// NewGraphCommand builds `netdep graph`.
func NewGraphCommand(streams Streams) *cobra.Command {
	o := &graphOptions{}
	cmd := &cobra.Command{
		Use:   "graph [PATH...]",
		Short: "Draw the dependency graph as Mermaid or Graphviz DOT",
		Long: `Draw the graph the dependency files under PATH declare: namespaces as
clusters, services as boxes, one arrow per caller and callee labelled with its
ports. Services of unmanaged namespaces are grey and dashed, raw peers (pods
named by labels) are dashed ellipses, address blocks are hexagons.

Without --env, every environment is drawn in one picture: a service or an
arrow that exists in only some environments is marked with them (and the
arrow is dashed). The cluster DNS that every egress-isolated pod may reach is
not drawn.

The output is deterministic, so a committed picture changes only when the
graph does.`,
		Example: `  # a Mermaid flowchart (GitHub renders it in a ` + "```mermaid" + ` block)
  netdep graph examples/shop > graph.mmd

  # an SVG with Graphviz
  netdep graph examples/shop -o dot | dot -Tsvg > graph.svg

  # only what exists in prod
  netdep graph examples/shop --env prod`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.format.check(); err != nil {
				return err
			}
			out, err := generator.FromPaths(pathsOrDot(args), generator.Options{SpecOnly: true})
			if err != nil {
				return err
			}
			if err := reportWarnings(out, false, streams.Err); err != nil {
				return err
			}
			var envs []string
			if o.env != "" {
				if err := checkEnv(out, o.env); err != nil {
					return err
				}
				envs = []string{o.env}
			}
			g, err := graph.Build(out.Spec, envs...)
			if err != nil {
				return err
			}
			return g.Write(streams.Out, o.format.value)
		},
	}
	cmd.Flags().StringVar(&o.env, "env", "", "draw only this environment (default: all, marked where they differ)")
	o.format = addFormatFlag(cmd, "", graph.FormatMermaid, graph.FormatDOT)
	registerEnvCompletion(cmd)
	return cmd
}
