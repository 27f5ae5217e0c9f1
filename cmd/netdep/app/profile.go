package app

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/spf13/cobra"
)

// addProfileFlags gives every command kubectl's hidden --profile and
// --profile-output: a CPU or heap profile of the run, for performance
// reports ("netdep verify --profile cpu ..." then go tool pprof). The
// returned func ends the profile; Main calls it whatever the command
// returned (diff's "differences found" skips cobra's post-run hooks).
func addProfileFlags(root *cobra.Command) (finish func() error) {
	var kind, output string
	root.PersistentFlags().StringVar(&kind, "profile", "none", "profile to write: none, cpu or heap")
	root.PersistentFlags().StringVar(&output, "profile-output", "profile.pprof", "file the profile is written to")
	_ = root.PersistentFlags().MarkHidden("profile")
	_ = root.PersistentFlags().MarkHidden("profile-output")
	var stop func() error
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		switch kind {
		case "none":
			return nil
		case "cpu":
			f, err := os.Create(output)
			if err != nil {
				return err
			}
			if err := pprof.StartCPUProfile(f); err != nil {
				f.Close()
				return err
			}
			stop = func() error {
				pprof.StopCPUProfile()
				return f.Close()
			}
		case "heap":
			stop = func() error {
				f, err := os.Create(output)
				if err != nil {
					return err
				}
				runtime.GC()
				if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
					f.Close()
					return err
				}
				return f.Close()
			}
		default:
			return usageError{fmt.Errorf("--profile %q: want none, cpu or heap", kind)}
		}
		return nil
	}
	return func() error {
		if stop == nil {
			return nil
		}
		err := stop()
		stop = nil
		return err
	}
}
