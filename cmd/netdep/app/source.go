package app

import (
	"github.com/spf13/cobra"

	"github.com/netdep/netdep/generator/gitrev"
)

// sourcePrefixFlag is --source-prefix: where the current directory is in
// the repository, so that netdep.io/source annotations name the spec files
// relative to the repository root wherever netdep runs. Without the flag it
// is found from the .git above the current directory; Argo CD's plugin
// sidecar gets no .git and passes $ARGOCD_APP_SOURCE_PATH.
type sourcePrefixFlag struct {
	cmd   *cobra.Command
	value string
}

func addSourcePrefixFlag(cmd *cobra.Command) *sourcePrefixFlag {
	f := &sourcePrefixFlag{cmd: cmd}
	cmd.Flags().StringVar(&f.value, "source-prefix", "", "the current directory's path in the repository, which netdep.io/source annotations start with (default: found from .git; Argo CD plugins pass $ARGOCD_APP_SOURCE_PATH)")
	return f
}

// get is the prefix: the flag's value when given, else the directory's
// path below the enclosing git working tree's root.
func (f *sourcePrefixFlag) get() (string, error) {
	if f.cmd.Flags().Changed("source-prefix") {
		return f.value, nil
	}
	return gitrev.Prefix(".")
}
