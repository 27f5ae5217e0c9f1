package app

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/importer"
	"github.com/netdep/netdep/generator/report"
)

// NewImportCommand builds `netdep import` and its subcommands.
func NewImportCommand(streams Streams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Bootstrap dependency files from existing policies or observed flows",
		Long: `Write dependency files from what a cluster already has: its NetworkPolicies
(import policies) or the traffic it carries (import flows), and compare
dependency files with observed traffic (import drift).

Files are written one per namespace into --out, never over an existing file
without --force.`,
	}
	cmd.AddCommand(newImportPoliciesCommand(streams), newImportFlowsCommand(streams), newImportDriftCommand(streams))
	return cmd
}

type importPoliciesOptions struct {
	manifests []string
	out       string
	force     bool
	podCIDRs  []string
	dryRun    bool
	namespace string
}

func newImportPoliciesCommand(streams Streams) *cobra.Command {
	o := &importPoliciesOptions{}
	cmd := &cobra.Command{
		Use:         "policies --manifests DIR|FILE... [--out DIR] [--force]",
		Annotations: writesFiles(),
		Short:       "Import dependency files from existing NetworkPolicies and workloads",
		Long: `Read NetworkPolicies and the workloads they select (every kind with a pod
template: Deployments, StatefulSets, DaemonSets, ReplicaSets,
ReplicationControllers, Jobs, CronJobs, custom resources such as Argo
Rollouts; and Pods, Services and Namespaces) from YAML files, directories or
kustomizations, and write dependency files whose generated policies allow the
same connections between those workloads.

What the schema cannot say exactly is imported in the closest form, and
said: the import checks its own files as netdep verify --manifests does (with
verify's own reader and check) and prints what verify finds, every difference
with the import's reason, then the approximations verify cannot see (a
selector imported as what it matches today) with the original rule; the same
text heads each file concerned. The last line is the verify command that
reproduces the check.`,
		Example: `  netdep import policies --manifests ./cluster-dump --out teams
  netdep import policies --manifests k8s/overlays/prod --pod-cidr 10.244.0.0/16`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.manifests) == 0 {
				return usageError{fmt.Errorf("--manifests is required")}
			}
			opts := importer.PolicyOptions{Out: o.out, Manifests: o.manifests, Namespace: o.namespace}
			for _, c := range o.podCIDRs {
				p, err := netip.ParsePrefix(c)
				if err != nil {
					return usageError{fmt.Errorf("--pod-cidr %q: %v", c, err)}
				}
				opts.PodCIDRs = append(opts.PodCIDRs, p.Masked())
			}
			res, err := importer.ImportPolicies(opts)
			if err != nil {
				return err
			}
			if err := writeImport(streams, o.out, res.Files, o.force, o.dryRun); err != nil {
				return err
			}
			fmt.Fprint(streams.Err, res.Text())
			fmt.Fprintf(streams.Err, "imported %d %s over %d %s\n", res.Policies, plural(res.Policies, "policy", "policies"),
				res.Workloads, plural(res.Workloads, "workload", "workloads"))
			fmt.Fprintf(streams.Err, "%s: %s\n", o.verifyCommand(), res.Check.Summary())
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&o.manifests, "manifests", nil, "manifests to read (files, directories, kustomizations)")
	cmd.Flags().StringVar(&o.out, "out", ".", "directory to write the dependency files to")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite existing files")
	cmd.Flags().StringSliceVar(&o.podCIDRs, "pod-cidr", nil, "the cluster's pod network; ipBlocks overlapping it are carved around it")
	cmd.Flags().StringVarP(&o.namespace, "namespace", "n", eval.DefaultNamespace, "the namespace of objects whose manifests name none, as kubectl apply -n")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the files on stdout instead of writing them")
	return cmd
}

// verifyCommand is the check the import ran, as a command to run again.
func (o *importPoliciesOptions) verifyCommand() string {
	args := []string{"netdep", "verify", o.out, "--manifests", strings.Join(o.manifests, ",")}
	if o.namespace != "" && o.namespace != eval.DefaultNamespace {
		args = append(args, "--namespace", o.namespace)
	}
	return strings.Join(args, " ")
}

// writeImport writes files into out, or prints them with dryRun.
func writeImport(streams Streams, out string, files []importer.File, force, dryRun bool) error {
	if dryRun {
		for i, f := range files {
			if i > 0 {
				fmt.Fprintln(streams.Out, "---")
			}
			fmt.Fprintf(streams.Out, "# %s\n%s", f.Name, f.Data)
		}
		return nil
	}
	if err := importer.WriteFiles(out, files, force); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintf(streams.Out, "wrote %s\n", joinPath(out, f.Name))
	}
	return nil
}

func joinPath(dir, name string) string {
	if dir == "" || dir == "." {
		return name
	}
	return dir + "/" + name
}

type importFlowsOptions struct {
	out       string
	force     bool
	dryRun    bool
	manifests []string
	unmanaged []string
}

func newImportFlowsCommand(streams Streams) *cobra.Command {
	o := &importFlowsOptions{}
	cmd := &cobra.Command{
		Use:         "flows FILE... [--out DIR] [--force]",
		Annotations: writesFiles(),
		Short:       "Import dependency files from observed traffic (Hubble, Otterize)",
		Long: `Read observed traffic and write the dependency files that allow it: Hubble
flow logs (the JSON lines of hubble observe -o json) and Otterize
ClientIntents (k8s.otterize.com v1alpha2, v1alpha3, v1, v2alpha1, v2beta1, v2).

Flows are aggregated to workloads (the workload Hubble names, else the app
or app.kubernetes.io/name label, else the pod) with their ports and
protocols; every Otterize target becomes a call or a note saying why not. Replies, dropped flows,
probes from the node and DNS lookups (allow-dns covers them) are left out and
counted; addresses outside the cluster become /32 (or /128) cidr entries.
--manifests supplies selectors and ports for what the flows only name, and
the Services an intent targets. Bad flow data is refused at its file, line
and column, every problem at once, nothing written.`,
		Example: `  hubble observe --since 24h -o json > flows.json
  netdep import flows flows.json --out teams
  netdep import flows intents/*.yaml --manifests k8s/ --out teams`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			obs, err := importer.ReadObservedFiles(args)
			if err != nil {
				return err
			}
			opts := importer.FlowOptions{Out: o.out, Inputs: args, Unmanaged: o.unmanaged}
			if len(o.manifests) > 0 {
				if opts.Cluster, err = importer.LoadCluster(o.manifests, ""); err != nil {
					return err
				}
			}
			res, err := importer.Flows(obs, opts)
			if err != nil {
				return err
			}
			if err := writeImport(streams, o.out, res.Files, o.force, o.dryRun); err != nil {
				return err
			}
			for _, n := range res.Notes {
				fmt.Fprintf(streams.Err, "note: %s\n", n)
			}
			n := res.Observations
			fmt.Fprintf(streams.Err, "imported %d %s into %d %s\n", n, plural(n, "observation", "observations"),
				len(res.Files), plural(len(res.Files), "file", "files"))
			return nil
		},
	}
	cmd.Flags().StringVar(&o.out, "out", ".", "directory to write the dependency files to")
	cmd.Flags().BoolVar(&o.force, "force", false, "overwrite existing files")
	cmd.Flags().BoolVar(&o.dryRun, "dry-run", false, "print the files on stdout instead of writing them")
	cmd.Flags().StringSliceVar(&o.manifests, "manifests", nil, "workload manifests that give selectors and ports")
	cmd.Flags().StringSliceVar(&o.unmanaged, "unmanaged", []string{"kube-system"}, "namespaces to describe without managing (managed: false)")
	return cmd
}

type importDriftOptions struct {
	observed []string
	env      string
	format   *formatFlag
}

func newImportDriftCommand(streams Streams) *cobra.Command {
	o := &importDriftOptions{}
	cmd := &cobra.Command{
		Use:   "drift --observed FILE... [PATH...]",
		Short: "Compare the declared dependencies with observed traffic",
		Long: `Compare the dependency files under PATH with observed traffic (Hubble flow
logs or Otterize ClientIntents, as import flows reads them): dependencies
declared but never observed, and connections observed that the declared graph
does not allow (the generated policies would cut them).

Exit 0 when they agree, 1 on drift, 2 on bad input.`,
		Example: `  netdep import drift --observed flows.json teams/`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(o.observed) == 0 {
				return usageError{fmt.Errorf("--observed is required")}
			}
			if err := o.format.check(); err != nil {
				return err
			}
			out, err := generator.FromPaths(pathsOrDot(args))
			if err != nil {
				return err
			}
			obs, err := importer.ReadObservedFiles(o.observed)
			if err != nil {
				return err
			}
			envs, err := selectEnvs(out, o.env)
			if err != nil {
				return err
			}
			var reports importer.DriftReports
			for _, env := range envs {
				r, err := importer.CompareObserved(out.Spec, env, obs)
				if err != nil {
					return err
				}
				reports = append(reports, r)
			}
			if err := reports.Write(streams.Out, o.format.value); err != nil {
				return err
			}
			if !reports.Clean() {
				return errDifferent
			}
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&o.observed, "observed", nil, "observed traffic: Hubble JSON flow logs or Otterize ClientIntents")
	cmd.Flags().StringVar(&o.env, "env", "", "compare only this environment")
	o.format = addFormatFlag(cmd, "", report.Text, report.JSON)
	return cmd
}
