package app

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/kustomize"
)

type generateOptions struct {
	out    string
	layout string
	strict bool
	quiet  bool
	source *sourcePrefixFlag
	expiry *expiryFlags
}

// NewGenerateCommand builds `netdep generate`.
func NewGenerateCommand(streams Streams) *cobra.Command {
	o := &generateOptions{}
	cmd := &cobra.Command{
		Use:         "generate [PATH...]",
		Annotations: writesFiles(),
		Short:       "Write the NetworkPolicy tree for the dependency files under PATH",
		Long: `Load every netdep file under PATH (default: the current directory), validate
it, and write default-deny plus least-privilege NetworkPolicies as a Kustomize
base with one overlay per environment.

The write is atomic: on any error, nothing is written and OUT keeps its
previous contents. netdep replaces only a tree it generated itself, and
leaves one that is already up to date untouched.`,
		Example: `  # generate the bundled example
  netdep generate examples/shop --out examples/shop/netpol

  # generate from the repository root into ./netpol
  netdep generate`,
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix, err := o.source.get()
			if err != nil {
				return err
			}
			opts := generator.Options{Layout: o.layout, Progress: progress(streams.Err, o.quiet), SourcePrefix: prefix}
			if o.layout == "" {
				// Without --layout, the tree keeps the layout it records.
				if opts.TreeLayout, err = kustomize.RecordedLayout(o.out); err != nil {
					return err
				}
			}
			out, err := generator.FromPaths(pathsOrDot(args), opts)
			if err != nil {
				return err
			}
			expiry, err := o.expiry.problems(out.Spec, o.strict, streams.Err)
			if err != nil {
				return err
			}
			out.Warnings = append(out.Warnings, expiry...)
			out.Warnings.Sort()
			if err := reportWarnings(out, o.strict, streams.Err); err != nil {
				return err
			}
			changed, err := kustomize.Update(o.out, out.Tree, kustomize.WriteOptions{})
			if err != nil {
				return err
			}
			if !o.quiet {
				verb := "wrote %s: %s\n"
				if !changed {
					verb = "%s is up to date: %s\n"
				}
				fmt.Fprintf(streams.Out, verb, o.out, summary(out))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "netpol", "directory to write the tree to")
	cmd.Flags().BoolVar(&o.strict, "strict", false, "treat warnings as errors (an expired exception among them)")
	o.source = addSourcePrefixFlag(cmd)
	o.expiry = addExpiryFlags(cmd)
	cmd.Flags().StringVar(&o.layout, "layout", "",
		"tree layout: environment (one kustomization per environment), namespace (one per namespace and environment, for large organisations) or auto (namespace above 500 policies in one environment); default: the project file's layout, else the one the tree at --out records, else auto")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print nothing on success")
	return cmd
}

// summary says what was written: policy counts of the base and each
// overlay, and of the cluster policies (guardrails) where there are any.
func summary(out *generator.Output) string {
	set := out.Set
	cluster := len(set.ClusterBase) > 0
	for _, ps := range set.ClusterOverlays {
		cluster = cluster || len(ps) > 0
	}
	s := fmt.Sprintf("%d policies in base", len(set.Base))
	if cluster {
		s = fmt.Sprintf("%d policies and %d cluster policies in base", len(set.Base), len(set.ClusterBase))
	}
	for i, env := range set.Environments {
		s += fmt.Sprintf(", %s +%d", env, len(set.Overlays[i]))
		if cluster {
			s += fmt.Sprintf(" (+%d cluster)", len(set.ClusterOverlay(env)))
		}
	}
	return s
}
