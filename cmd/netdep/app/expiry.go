package app

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/netdep/netdep/schema"
)

// expiryFlags are how generate and verify learn the day to judge
// exceptions by. netdep never reads the clock: --today wins, then the
// reproducible-builds convention SOURCE_DATE_EPOCH (seconds since 1970,
// UTC); without either, expiry is not checked. The day affects only
// warnings and errors, never the tree.
type expiryFlags struct {
	today    string
	warnDays int
	getenv   func(string) string
}

func addExpiryFlags(cmd *cobra.Command) *expiryFlags {
	f := &expiryFlags{getenv: os.Getenv}
	cmd.Flags().StringVar(&f.today, "today", "", "judge exceptions' expiry by this day (YYYY-MM-DD); default: SOURCE_DATE_EPOCH when set, else expiry is not checked")
	cmd.Flags().IntVar(&f.warnDays, "expiry-warning", -1, "note exceptions expiring within this many days (default: the project file's exceptions.warnDays, else 14)")
	return f
}

// day is the day to judge by, the zero time when none is given.
func (f *expiryFlags) day() (time.Time, error) {
	if f.today != "" {
		d, err := schema.ParseDate(f.today)
		if err != nil {
			return time.Time{}, usageError{fmt.Errorf("--today: %w", err)}
		}
		return d, nil
	}
	if s := f.getenv("SOURCE_DATE_EPOCH"); s != "" {
		secs, err := strconv.ParseInt(s, 10, 64)
		if err != nil || secs < 0 {
			return time.Time{}, usageError{fmt.Errorf("SOURCE_DATE_EPOCH: expected seconds since 1970-01-01 UTC, found %q", s)}
		}
		return time.Unix(secs, 0).UTC(), nil
	}
	return time.Time{}, nil
}

// problems judges spec's exceptions: notes for those expiring soon,
// warnings for those expired (reportWarnings prints them, and --strict
// fails on the warnings). Without a day, strict says what was not checked.
func (f *expiryFlags) problems(spec *schema.Spec, strict bool, stderr io.Writer) (schema.Problems, error) {
	if f.warnDays < -1 {
		return nil, usageError{fmt.Errorf("--expiry-warning: expected a number of days, found %d", f.warnDays)}
	}
	day, err := f.day()
	if err != nil {
		return nil, err
	}
	if day.IsZero() {
		if strict && len(spec.Exceptions) > 0 {
			fmt.Fprintf(stderr, "netdep: note: %d %s, expiry not checked: pass --today YYYY-MM-DD or set SOURCE_DATE_EPOCH\n",
				len(spec.Exceptions), plural(len(spec.Exceptions), "exception", "exceptions"))
		}
		return nil, nil
	}
	return schema.CheckExpiry(spec, schema.Expiry{Today: day, WarnDays: f.warnDays}), nil
}
