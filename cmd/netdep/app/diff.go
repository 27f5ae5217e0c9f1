package app

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/diff"
	"github.com/netdep/netdep/generator/gitrev"
	"github.com/netdep/netdep/generator/kustomize"
	"github.com/netdep/netdep/generator/report"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/schema"
)

type diffOptions struct {
	out       string
	base      string
	head      string
	format    *formatFlag
	color     string
	exitCode  bool
	source    *sourcePrefixFlag
	failOn    []string
	risks     []diff.Risk
	sensitive []string
}

// NewDiffCommand builds `netdep diff`.
func NewDiffCommand(streams Streams) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff [PATH...] (--out DIR | --base REF [--head REF])",
		Short: "Show what a change does: a stale output tree, or the flows and policies a revision changes",
		Long: `Two questions, like kubectl diff: exit 0 when nothing differs, 1 when
something does, 2 on error.

With --out DIR (the default when --base is not given): is the tree in DIR what
generate would write for the dependency files under PATH, in the layout the
tree's marker records (docs/reference.md, layout)? Lists the files to
add, delete and change, with a unified diff of each changed file. For CI.

With --base REF: load the dependency files under PATH as they are at REF and
at the head (--head REF, default the working tree with uncommitted changes),
generate both in memory and report, per environment, the flows added and
removed (what the two policy sets allow, evaluated over the same pods and
addresses) and the policies added, removed and changed. REF is anything git
resolves: a branch, a tag, origin/main, HEAD~2, a short hash. Nothing is
checked out and the working tree is not touched.

Where a revision commits the generated tree (--out, else PATH/netpol, else
./netpol), its policies are read from that tree, so a hand edit of the tree
shows; a flow only one direction allows is marked (ingress only) or (egress
only). A head tree that is not what generate writes for the head's
dependency files is reported as stale, and exits 1.

Every added or removed flow names the dependency-file line causing it
(file:line), or says why none does (the cluster DNS, a namespace's isolation,
a committed tree that is stale or hand-edited). Added flows are flagged by
risk class, and a summary line counts them:

  external         a new flow from addresses outside the cluster
  egress-external  new egress to addresses outside the cluster
  cross-namespace  a new flow between pods of two namespaces
  sensitive        a new flow into a namespace the project file marks sensitive
                   (its sensitive: list) or named with --sensitive

--fail-on CLASS,... (or any) exits 3 when an added flow of a chosen class
appears, whatever --exit-code says. Exit codes: 0 nothing differs, 1 something
differs, 2 error, 3 a --fail-on risk appears.`,
		Example: `  # CI: refuse a stale committed tree
  netdep diff examples/shop --out examples/shop/netpol

  # what does my branch change, uncommitted edits included?
  netdep diff --base origin/main

  # a pull-request comment, without failing the job on changes
  netdep diff --base origin/main -o markdown --exit-code=false

  # fail CI on new traffic from outside the cluster or into payments
  netdep diff --base origin/main --fail-on external,sensitive --sensitive payments`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.validate(cmd); err != nil {
				return err
			}
			color := o.useColor(streams.Out)
			var changed, risky bool
			var err error
			if o.base == "" {
				changed, err = o.runStale(args, streams, color)
			} else {
				changed, risky, err = o.runCompare(cmd, args, streams, color)
			}
			if err != nil {
				return err
			}
			if risky {
				return errRisk
			}
			if changed && o.exitCode {
				return errDifferent
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.out, "out", "netpol", "the generated tree: checked for staleness (without --base); with --base, the committed tree whose policies each revision enforces (default: PATH/netpol, then ./netpol)")
	f.StringVar(&o.base, "base", "", "the revision to compare from (a branch, tag, origin/main, HEAD~2, a hash)")
	f.StringVar(&o.head, "head", "", "the revision to compare to (default: the working tree, uncommitted changes included)")
	o.format = addFormatFlag(cmd, "text, markdown (a pull-request comment) or json (docs/diff-json.md)", report.Text, report.Markdown, report.JSON)
	f.StringVar(&o.color, "color", "auto", "colour the text format: auto (when stdout is a terminal), always or never")
	o.source = addSourcePrefixFlag(cmd)
	f.BoolVar(&o.exitCode, "exit-code", true, "exit 1 when there are changes; --exit-code=false exits 0 (for jobs that only comment)")
	f.StringSliceVar(&o.failOn, "fail-on", nil, "exit 3 when an added flow of these risk classes appears: external, egress-external, cross-namespace, sensitive, or any (comma-separated; with --base)")
	f.StringSliceVar(&o.sensitive, "sensitive", nil, "namespaces whose new inbound flows are flagged as risk class sensitive, besides the project file's sensitive: (comma-separated; with --base)")
	return cmd
}

func (o *diffOptions) validate(cmd *cobra.Command) error {
	if err := o.format.check(); err != nil {
		return err
	}
	switch o.color {
	case "auto", "always", "never":
	default:
		return usageError{fmt.Errorf("--color: unknown value %q (expected auto, always or never)", o.color)}
	}
	switch {
	case o.head != "" && o.base == "":
		return usageError{fmt.Errorf("--head needs --base: compare which revision with %s?", o.head)}
	case o.base == "" && o.format.value == report.Markdown:
		return usageError{fmt.Errorf("-o markdown describes a change between revisions; give --base REF")}
	case o.base == "" && (len(o.failOn) > 0 || len(o.sensitive) > 0):
		return usageError{fmt.Errorf("--fail-on and --sensitive judge the flows a change adds; give --base REF")}
	}
	risks, err := diff.ParseRisks(o.failOn)
	if err != nil {
		return usageError{fmt.Errorf("--fail-on: %w", err)}
	}
	o.risks = risks
	return nil
}

func (o *diffOptions) useColor(w io.Writer) bool {
	switch o.color {
	case "always":
		return true
	case "never":
		return false
	}
	if os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (o *diffOptions) runStale(args []string, streams Streams, color bool) (bool, error) {
	// Regenerate in the layout the tree records, as generate would.
	layout, err := kustomize.RecordedLayout(o.out)
	if err != nil {
		return false, err
	}
	prefix, err := o.source.get()
	if err != nil {
		return false, err
	}
	out, err := generator.FromPaths(pathsOrDot(args), generator.Options{TreeLayout: layout, SourcePrefix: prefix})
	if err != nil {
		return false, err
	}
	if err := reportWarnings(out, false, streams.Err); err != nil {
		return false, err
	}
	r, err := diff.Stale(o.out, out.Tree)
	if err != nil {
		return false, err
	}
	if err := warnNotEvaluated(r, streams.Err); err != nil {
		return false, err
	}
	err = diff.TreeOutput{Report: r, Text: diff.TextOptions{Color: color}}.Write(streams.Out, o.format.value)
	if err == nil && r.Changed() {
		fmt.Fprintf(streams.Err, "run `netdep generate %s --out %s` to update it\n", strings.Join(args, " "), o.out)
	}
	return r.Changed(), err
}

// diffInput is one side of a comparison as the pipeline generated it.
func diffInput(out *generator.Output, side diff.Side) diff.Input {
	return diff.Input{Spec: out.Spec, Set: out.Set, Generated: out.Tree, Side: side}
}

func (o *diffOptions) runCompare(cmd *cobra.Command, args []string, streams Streams, color bool) (changed, risky bool, err error) {
	repo, err := gitrev.Open(".")
	if err != nil {
		return false, false, err
	}
	out := ""
	if cmd.Flags().Changed("out") {
		out = o.out
	}
	dirs := diff.TreeDirs(out, pathsOrDot(args))
	// Both revisions annotate their files from the repository root, as
	// the committed tree does, wherever in the repository this runs.
	prefix, err := o.source.get()
	if err != nil {
		return false, false, err
	}
	// The base side (its pipeline and its committed tree) runs on its own
	// goroutine while this one reads the head's: the two are independent.
	// It reads the repository through its own handle, since a go-git
	// repository is not safe for concurrent use. Errors are reported in the
	// order a sequential run meets them: the base's first.
	// The two sides share the files a change did not touch: each is
	// decoded once, by whichever side meets it first.
	decoded := schema.NewDecodeCache()
	var base diff.Input
	var baseErr error
	baseDone := make(chan struct{})
	baseRepo, err := gitrev.Open(".")
	if err != nil {
		return false, false, err
	}
	startBase := func() {
		defer close(baseDone)
		base, baseErr = o.baseSide(baseRepo, args, prefix, dirs, decoded)
	}
	if sequentialDiffSides {
		startBase()
	} else {
		go startBase()
	}
	// waitBase returns the base side's error once it is done; its tree is
	// closed when runCompare returns, whatever happened to the head.
	waited := false
	waitBase := func() error {
		if !waited {
			<-baseDone
			waited = true
		}
		return baseErr
	}
	defer func() {
		if waitBase() == nil {
			closeTree(base.Tree, &err)
		}
	}()
	head, headTree, headOut, headErr := o.headSide(repo, args, prefix, dirs, decoded)
	if headTree != nil {
		defer closeTree(headTree, &err)
	}
	if err := waitBase(); err != nil {
		return false, false, err
	}
	if headErr != nil {
		return false, false, headErr
	}
	if err := reportWarnings(headOut, false, streams.Err); err != nil {
		return false, false, err
	}
	r, err := diff.Compare(base, head)
	if err != nil {
		return false, false, err
	}
	r.FlagRisks(o.sensitive)
	err = diff.Output{Report: r, Text: diff.TextOptions{Color: color}}.Write(streams.Out, o.format.value)
	if err == nil && r.HeadStale() {
		// Prominent on stderr too: a job that posts the markdown still
		// shows it in its log.
		fmt.Fprintf(streams.Err, "warning: %s\n", r.StaleText())
		fmt.Fprintf(streams.Err, "run `netdep generate %s --out %s` to update it\n", strings.Join(pathsOrDot(args), " "), r.Stale.Dir)
	}
	return r.Changed(), err == nil && r.HasRisk(o.risks), err
}

// sequentialDiffSides runs the base side of `diff --base` before the head
// instead of alongside it: for the test that both orders report the same.
var sequentialDiffSides = false

// baseSide is the base revision as diff.Compare takes it: its pipeline's
// output (the base's generated tree is never compared with anything) and
// the tree it commits.
func (o *diffOptions) baseSide(repo *gitrev.Repo, args []string, prefix string, dirs []string, decoded *schema.DecodeCache) (diff.Input, error) {
	baseOut, v, err := generator.FromRevision(repo, o.base, args, generator.Options{SourcePrefix: prefix, NoTree: true, Decoded: decoded})
	if err != nil {
		return diff.Input{}, err
	}
	base := diffInput(baseOut, diff.Side{Ref: v.Name, Commit: v.Hash})
	base.Tree, err = diff.TreeAtRevision(repo, o.base, dirs)
	return base, err
}

// headSide is the head (--head, or the working tree) as diff.Compare takes
// it, with the tree it commits, which the caller closes when not nil.
func (o *diffOptions) headSide(repo *gitrev.Repo, args []string, prefix string, dirs []string, decoded *schema.DecodeCache) (head diff.Input, headTree *diff.Tree, headOut *generator.Output, err error) {
	// The head's tree is found first: its dependency files are generated
	// in the layout it records, to tell whether it is stale.
	if o.head == "" {
		headTree, err = diff.TreeOnDisk(dirs)
	} else {
		headTree, err = diff.TreeAtRevision(repo, o.head, dirs)
	}
	if err != nil {
		return diff.Input{}, nil, nil, err
	}
	layout, err := headTree.Layout()
	if err != nil {
		return diff.Input{}, headTree, nil, err
	}
	// The head's generated tree is compared with the tree it commits, if
	// any (Report.Stale).
	opts := generator.Options{TreeLayout: layout, SourcePrefix: prefix, NoTree: headTree == nil, Decoded: decoded}
	if o.head == "" {
		headOut, err = generator.FromPaths(pathsOrDot(args), opts)
		if err == nil {
			head = diffInput(headOut, diff.WorkingTree)
			head.Side, err = workingTreeSide(repo)
		}
	} else {
		var v *gitrev.Revision
		headOut, v, err = generator.FromRevision(repo, o.head, args, opts)
		if err == nil {
			head = diffInput(headOut, diff.Side{Ref: v.Name, Commit: v.Hash})
		}
	}
	if err != nil {
		return diff.Input{}, headTree, nil, err
	}
	head.Tree = headTree
	return head, headTree, headOut, nil
}

// workingTreeSide names the head when no --head is given: its commit when
// the working tree is clean (it is HEAD), "working tree" when it is not.
func workingTreeSide(repo *gitrev.Repo) (diff.Side, error) {
	clean, err := repo.Clean()
	if err != nil || !clean {
		return diff.WorkingTree, err
	}
	v, err := repo.Resolve("HEAD")
	if err != nil {
		return diff.WorkingTree, err
	}
	return diff.Side{Ref: "HEAD", Commit: v.Hash}, nil
}

// warnNotEvaluated names, once, the objects of the tree on disk that can
// change connectivity but that netdep does not evaluate (a hand-added
// CiliumNetworkPolicy, say). Only the files that differ from what generate
// writes can hold one, so only those are read.
func warnNotEvaluated(r *diff.TreeReport, stderr io.Writer) error {
	var files []string
	for _, f := range r.Files {
		if f.Action != diff.Added && (strings.HasSuffix(f.Path, ".yaml") || strings.HasSuffix(f.Path, ".yml")) {
			files = append(files, filepath.Join(r.Dir, filepath.FromSlash(f.Path)))
		}
	}
	refs, err := verify.ScanNotEvaluated(files)
	if err != nil {
		return err
	}
	for _, w := range verify.NotEvaluatedWarnings(refs) {
		fmt.Fprintln(stderr, w.String())
	}
	return nil
}

// closeTree removes a revision's scratch copy of its tree, keeping the
// first error.
func closeTree(t *diff.Tree, err *error) {
	if cerr := t.Close(); cerr != nil && *err == nil {
		*err = cerr
	}
}
