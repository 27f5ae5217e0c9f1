package app

import (
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/explain"
	"github.com/netdep/netdep/generator/verify"
)

type explainOptions struct {
	env       string
	out       string
	manifests []string
}

// NewExplainCommand builds `netdep explain`.
func NewExplainCommand(streams Streams) *cobra.Command {
	o := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain SRC DST[:PORT[/PROTO]] [PATH...]",
		Short: "Say whether a connection is allowed, and which policies and rules decide it",
		Long: `Evaluate one connection with standard NetworkPolicy semantics and name what
decides it: the policies that isolate the source for egress and the
destination for ingress, and the rules that admit the connection (or that
none does).

SRC and DST are one of
  ns/svc            the pods of a declared service
  svc               a service whose name is unique across namespaces
  ns/*              a pod with no labels in namespace ns (any namespace)
  ns/{k=v,...}      a pod with exactly these labels in namespace ns
  10.1.2.3          an address outside the cluster ([2001:db8::1] for IPv6)
  api.stripe.com    (DST only) a host a calls entry names (host:NAME also)

PORT is a number or a port name of DST, optionally with /TCP, /UDP or /SCTP.
Without a port, every port DST declares is checked.

By default the policies are the ones netdep generates for the dependency files
under PATH; --out reads a generated tree and --manifests any NetworkPolicy
manifests instead. Namespace objects among the manifests label the
namespaces, so that a namespaceSelector on labels selects what it would in
the cluster; without them a namespace carries only its
kubernetes.io/metadata.name label. Without --env, every environment is
checked.

NetworkPolicies, ClusterNetworkPolicies (v1beta1, tiers Admin and Baseline,
and their v1alpha1 AdminNetworkPolicy/BaselineAdminNetworkPolicy forms), and
the subset of CiliumNetworkPolicy and Calico v3 policies that netdep emits
(docs/plugins.md) are evaluated, and the deciding policy and rule are named.
In an environment in mode: audit the answer is what the staged policies would
do, and the environment is labelled so. Other objects among the manifests (or
in the tree) that can change connectivity, or a plugin policy using fields
outside that subset, are each named in a warning, and the answer says it
holds without them.

Exit 0 when allowed (in every environment checked), 1 when denied, 2 on bad
input.`,
		Example: `  # may the frontend call the cart's grpc port?
  netdep explain storefront/frontend storefront/cart:grpc examples/shop

  # every port the checkout service declares, in prod only
  netdep explain storefront/frontend checkout/checkout examples/shop --env prod

  # DNS, and an address outside the cluster
  netdep explain storefront/frontend 'kube-system/{k8s-app=kube-dns}:53/UDP' examples/shop --env dev
  netdep explain payments/payment 198.51.100.7:443 examples/shop --env prod

  # a host called by name (a CiliumNetworkPolicy in prod, pinned addresses elsewhere)
  netdep explain payments/payment api.stripe.com:443 examples/shop

  # the committed tree, or hand-written manifests
  netdep explain storefront/frontend storefront/cart:7070 examples/shop --out examples/shop/netpol
  netdep explain default/trusted-app default/my-app:80 examples/seed --manifests ./live-policies`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError{fmt.Errorf("explain needs SRC and DST, found %d argument(s)", len(args))}
			}
			return nil
		},
		ValidArgsFunction: completeExplainArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.out != "" && len(o.manifests) > 0 {
				return usageError{fmt.Errorf("--out and --manifests exclude each other")}
			}
			out, err := generator.FromPaths(pathsOrDot(args[2:]))
			if err != nil {
				return err
			}
			if err := reportWarnings(out, false, streams.Err); err != nil {
				return err
			}
			envs := out.Spec.EnvNames()
			if o.env != "" {
				if err := checkEnv(out, o.env); err != nil {
					return err
				}
				envs = []string{o.env}
			}
			src := verify.FromSet(out.Set)
			switch {
			case len(o.manifests) > 0:
				m, err := verify.LoadManifests(o.manifests)
				if err != nil {
					return err
				}
				src = verify.FromManifests(m)
			case o.out != "":
				src = verify.FromTree(o.out)
			}
			r, err := explain.Explain(out.Spec, envs, src, args[0], args[1])
			var argErr *explain.ArgError
			if errors.As(err, &argErr) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if _, err := io.WriteString(streams.Out, r.String()); err != nil {
				return err
			}
			// An AdminNetworkPolicy Deny, say, wins over every allow above:
			// the answer holds only for what was evaluated.
			if warnings := verify.NotEvaluatedWarnings(r.NotEvaluated); len(warnings) > 0 {
				for _, w := range warnings {
					fmt.Fprintln(streams.Err, w.String())
				}
				if _, err := fmt.Fprintf(streams.Out, "partial: this answer is %s, which can change it (named on stderr)\n", verify.Partial(len(warnings))); err != nil {
					return err
				}
			}
			if !r.Allowed() {
				return errDifferent
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.env, "env", "", "check only this environment")
	cmd.Flags().StringVar(&o.out, "out", "", "evaluate the generated tree in this directory instead of generating in memory")
	cmd.Flags().StringSliceVar(&o.manifests, "manifests", nil, "evaluate these NetworkPolicy manifests (files, directories, kustomizations); their Namespace objects label the namespaces")
	registerEnvCompletion(cmd)
	return cmd
}
