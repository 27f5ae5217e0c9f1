package app

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/diff"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/gitrev"
	"github.com/netdep/netdep/generator/importer"
	"github.com/netdep/netdep/generator/posture"
	"github.com/netdep/netdep/generator/report"
	"github.com/netdep/netdep/generator/verify"
)

type reportOptions struct {
	out       string
	manifests []string
	namespace string
	env       string
	outFile   string
	sensitive []string
	base      string
	format    *formatFlag
}

// NewReportCommand builds `netdep report`.
func NewReportCommand(streams Streams) *cobra.Command {
	o := &reportOptions{}
	cmd := &cobra.Command{
		Use:   "report [PATH...] [--out DIR | --manifests M...] [--env E] [--base REF] [--out-file F]",
		Short: "Security posture: isolation, exposure, egress, blast radius, cross-namespace flows",
		Long: `Evaluate the policies in force and report what they mean for a security
review, per environment:

  isolation      per namespace, the services a NetworkPolicy isolates for
                 ingress and egress, and whether a new unlabelled pod is
  exposure       services that addresses outside the cluster, or pods of
                 namespaces nobody manages, may connect to, with the ports
  egress         per service, the addresses outside the cluster it may reach
  blast radius   per service, what a compromised pod reaches in one hop and
                 through any chain of allowed connections, largest first
  cross-namespace connections, and those into sensitive namespaces (the
                 project file's sensitive list, cluster or environment, and
                 any --sensitive adds)

The policies are the committed tree (--out, else PATH/netpol or ./netpol
when one exists, else what generate would write), or --manifests. Hand edits,
foreign policies and ClusterNetworkPolicies count: the figures come from
evaluating them, over the pods verify checks. --manifests without PATH
reports on any manifests with no dependency file: the workloads among them
(every kind with a pod template) are the services.

--base REF puts the figures at REF (its committed tree, else its dependency
files generated) beside the head's, with what changes.

Formats: markdown (default), html (one self-contained page: tables, and an
interactive graph above them; above 400 services the graph is drawn per
namespace), json (everything), and the connectivity list
"src => dst : conns" as netpol-analyzer lists it, as text or csv.`,
		Example: `  netdep report examples/shop --format html --out-file report.html
  netdep report examples/shop --env prod --sensitive checkout
  netdep report --manifests ./cluster-dump --format text
  netdep report --base origin/main --format markdown`,
		RunE: func(cmd *cobra.Command, args []string) error { return o.run(cmd, args, streams) },
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "", "the generated tree to evaluate (default: PATH/netpol, then ./netpol, when one exists; else generated in memory)")
	f.StringSliceVar(&o.manifests, "manifests", nil, "evaluate these manifests (files, directories, kustomizations) instead; without PATH, their workloads are the services")
	f.StringVarP(&o.namespace, "namespace", "n", eval.DefaultNamespace, "with --manifests: the namespace of objects whose manifests name none, as kubectl apply -n")
	f.StringVar(&o.env, "env", "", "report only this environment")
	f.StringVar(&o.outFile, "out-file", "", "write the report to this file instead of stdout")
	f.StringSliceVar(&o.sensitive, "sensitive", nil, "namespaces whose inbound flows are listed on their own, besides the project file's sensitive list (comma-separated)")
	f.StringVar(&o.base, "base", "", "also report at this revision (a branch, tag, origin/main, a hash) and the change")
	registerEnvCompletion(cmd)
	o.format = addFormatFlag(cmd, "markdown, html, json, text or csv (text and csv: the connectivity list)",
		report.Markdown, posture.HTML, report.JSON, report.Text, posture.CSV)
	return cmd
}

func (o *reportOptions) run(cmd *cobra.Command, args []string, streams Streams) error {
	if err := o.format.check(); err != nil {
		return err
	}
	switch {
	case o.out != "" && len(o.manifests) > 0:
		return usageError{fmt.Errorf("--out and --manifests exclude each other")}
	case o.base != "" && len(o.manifests) > 0:
		return usageError{fmt.Errorf("--base compares revisions of the dependency files and tree; it does not take --manifests")}
	}
	opts := posture.Options{Sensitive: o.sensitive}
	var r *posture.Report
	var err error
	if len(o.manifests) > 0 && len(args) == 0 {
		if o.env != "" {
			return usageError{fmt.Errorf("--env needs dependency files: manifests alone have one environment")}
		}
		r, err = o.fromCluster(opts)
	} else {
		r, err = o.fromSpec(args, opts, streams)
	}
	if err != nil {
		return err
	}
	if r.NotEvaluated > 0 {
		fmt.Fprintf(streams.Err, "warning: the report holds %s\n", verify.Partial(r.NotEvaluated))
	}
	var buf bytes.Buffer
	if err := r.Write(&buf, o.format.value); err != nil {
		return err
	}
	if o.outFile == "" {
		_, err := streams.Out.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(o.outFile, buf.Bytes())
}

func (o *reportOptions) fromCluster(opts posture.Options) (*posture.Report, error) {
	c, m, err := importer.LoadClusterManifests(o.manifests, o.namespace)
	if err != nil {
		return nil, err
	}
	opts.Source = "manifests"
	return posture.FromCluster(c, m, opts)
}

func (o *reportOptions) fromSpec(args []string, opts posture.Options, streams Streams) (*posture.Report, error) {
	paths := pathsOrDot(args)
	out, err := generator.FromPaths(paths)
	if err != nil {
		return nil, err
	}
	if err := reportWarnings(out, false, streams.Err); err != nil {
		return nil, err
	}
	envs, err := selectEnvs(out, o.env)
	if err != nil {
		return nil, err
	}
	var src posture.Loader = verify.FromSet(out.Set)
	opts.Source = "generated from the dependency files"
	switch {
	case len(o.manifests) > 0:
		m, err := verify.LoadManifests(o.manifests)
		if err != nil {
			return nil, err
		}
		m.Policies = verify.InNamespace(m.Policies, o.namespace)
		src, opts.Source = verify.FromManifests(m), "manifests"
	default:
		t, err := diff.TreeOnDisk(diff.TreeDirs(o.out, paths))
		if err != nil {
			return nil, err
		}
		if t != nil {
			src, opts.Source = verify.FromTree(t.Dir), "tree "+t.Dir
		} else if o.out != "" {
			return nil, fmt.Errorf("%s: no generated tree there (generate it first, or leave out --out)", o.out)
		}
	}
	head, err := posture.FromSpec(out.Spec, envs, src, opts)
	if err != nil || o.base == "" {
		return head, err
	}
	base, err := o.atBase(args, envs, opts)
	if err != nil {
		return nil, err
	}
	return posture.Compare(base, head, o.base), nil
}

// atBase is the report at --base: its committed tree where it has one,
// else its dependency files generated.
func (o *reportOptions) atBase(args, envs []string, opts posture.Options) (_ *posture.Report, err error) {
	repo, err := gitrev.Open(".")
	if err != nil {
		return nil, err
	}
	out, _, err := generator.FromRevision(repo, o.base, args)
	if err != nil {
		return nil, err
	}
	t, err := diff.TreeAtRevision(repo, o.base, diff.TreeDirs(o.out, pathsOrDot(args)))
	if err != nil {
		return nil, err
	}
	defer closeTree(t, &err)
	var src posture.Loader = verify.FromSet(out.Set)
	if t != nil {
		src = revisionTree{t}
	}
	var have []string
	for _, e := range envs {
		if slices.Contains(out.Spec.EnvNames(), e) {
			have = append(have, e)
		}
	}
	return posture.FromSpec(out.Spec, have, src, opts)
}

// revisionTree is a revision's committed tree as a posture.Loader.
type revisionTree struct{ t *diff.Tree }

func (r revisionTree) Load(env string) (*verify.Manifests, error) {
	ps, cps, err := r.t.Objects(env)
	if err != nil {
		return nil, err
	}
	return &verify.Manifests{Policies: ps, ClusterPolicies: cps}, nil
}

// writeFileAtomic writes data to name through a temporary file beside it,
// so a failed write leaves name as it was.
func writeFileAtomic(name string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), name)
}
