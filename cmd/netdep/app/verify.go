package app

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/report"
	"github.com/netdep/netdep/generator/verify"
)

type verifyOptions struct {
	out       string
	manifests []string
	namespace string
	env       string
	format    *formatFlag
	quiet     bool
	strict    bool
	expiry    *expiryFlags
}

// NewVerifyCommand builds `netdep verify`.
func NewVerifyCommand(streams Streams) *cobra.Command {
	o := &verifyOptions{}
	cmd := &cobra.Command{
		Use:   "verify [PATH...]",
		Short: "Prove the policies allow exactly the declared graph",
		Long: `Evaluate NetworkPolicies with standard NetworkPolicy semantics over one pod
per declared service, an unlabelled pod per namespace, a pod in a namespace
netdep does not manage and the addresses outside the cluster, and compare the
allowed connections with the ones the dependency files under PATH declare.

By default the generated tree under --out is checked, every environment's
overlay; --manifests checks any NetworkPolicy manifests instead (YAML files,
directories of them, or kustomization directories), applied to every
environment. Namespace objects among the manifests label the namespaces of
the world, so that a namespaceSelector on labels such as {team: web} selects
what it would in the cluster; without them a namespace carries only its
kubernetes.io/metadata.name label. A namespace they declare that no
dependency file describes joins the world with an unlabelled pod.

NetworkPolicies and ClusterNetworkPolicies (policy.networking.k8s.io/v1beta1,
tiers Admin and Baseline) are evaluated. Objects beside them that can change
connectivity too (CiliumNetworkPolicy, Calico's policies, AdminNetworkPolicy
and BaselineAdminNetworkPolicy v1alpha1, any other *NetworkPolicy kind and
anything else of the cilium.io, projectcalico.org and
policy.networking.k8s.io groups) are each named in a warning, and the
verdict says it is partial: "exact for the objects it
evaluated only; 2 objects not evaluated". --strict makes a partial verdict exit 1.

Exit 0 when exact, 1 when a connection is missing or in excess (or, with
--strict, when objects were not evaluated), 2 on bad input.`,
		Example: `  netdep verify examples/shop --out examples/shop/netpol
  netdep verify --manifests ./hand-written-policies --env prod
  netdep verify -o json
  netdep verify --manifests ./cluster-dump --strict`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.format.check(); err != nil {
				return err
			}
			report := progress(streams.Err, o.quiet)
			src := verify.FromTree(o.out)
			if len(o.manifests) == 0 {
				src.Preload() // while the dependency files are read
			}
			out, err := generator.FromPaths(pathsOrDot(args), generator.Options{Progress: report, SpecOnly: true})
			if err != nil {
				return err
			}
			envs, err := selectEnvs(out, o.env)
			if err != nil {
				return err
			}
			expiry, err := o.expiry.problems(out.Spec, o.strict, streams.Err)
			if err != nil {
				return err
			}
			if err := reportProblems(expiry, o.strict, streams.Err); err != nil {
				return err
			}
			if len(o.manifests) > 0 {
				m, err := verify.LoadManifests(o.manifests)
				if err != nil {
					return err
				}
				m.Policies = verify.InNamespace(m.Policies, o.namespace)
				src = verify.FromManifests(m)
			}
			reports, notEvaluated, err := verify.Run(out.Spec, envs, src, report)
			var loadErr *verify.LoadError
			if errors.As(err, &loadErr) && len(o.manifests) == 0 {
				return fmt.Errorf("%w (generate the tree first, or pass --out or --manifests)", err)
			}
			if err != nil {
				return err
			}
			warnings := verify.NotEvaluatedWarnings(notEvaluated)
			for _, w := range warnings {
				fmt.Fprintln(streams.Err, w.String())
			}
			if err := reports.Write(streams.Out, o.format.value); err != nil {
				return err
			}
			for _, r := range reports {
				if !r.Exact() {
					return errDifferent
				}
			}
			if o.strict && len(warnings) > 0 {
				fmt.Fprintf(streams.Err, "netdep: --strict: the verdict is partial, %d %s not evaluated\n", len(warnings), plural(len(warnings), "object", "objects"))
				return errDifferent
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", "netpol", "generated tree to check")
	cmd.Flags().StringSliceVar(&o.manifests, "manifests", nil, "check these NetworkPolicy manifests (files, directories, kustomizations) instead of --out; their Namespace objects label the namespaces")
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", eval.DefaultNamespace, "with --manifests: the namespace of policies whose manifests name none, as kubectl apply -n")
	cmd.Flags().StringVar(&o.env, "env", "", "check only this environment")
	registerEnvCompletion(cmd)
	o.format = addFormatFlag(cmd, "", report.Text, report.JSON)
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "no progress lines on stderr")
	cmd.Flags().BoolVar(&o.strict, "strict", false, "exit 1 when the verdict is partial: objects that can change connectivity were not evaluated; exit 2 on an expired exception")
	o.expiry = addExpiryFlags(cmd)
	return cmd
}

func envLabel(env string) string { return verify.EnvLabel(env) }
