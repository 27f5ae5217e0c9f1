package verify

import (
	"fmt"
	"io"
)

// EnvLabel is how reports name an environment: its name, or "(single
// environment)" for the implicit one.
func EnvLabel(env string) string {
	if env == "" {
		return "(single environment)"
	}
	return env
}

// Summary is r's verdict on one line, as verify's text output prints it
// after the environment's name: "exact (...)" or "M missing, E in excess
// (...)", with the size of the world.
func (r *Report) Summary() string {
	size := fmt.Sprintf("(%d policies over %d pods and %d address classes)", r.Policies, r.Pods, r.Addresses)
	if r.Exact() {
		return "exact " + size
	}
	return fmt.Sprintf("%d missing, %d in excess %s", len(r.Missing), len(r.Excess), size)
}

// DifferenceText is one difference as verify's text output prints it,
// kind ("missing" or "excess") first, its reason on a second line; each
// line is prefixed by indent.
func DifferenceText(indent, kind string, d Difference) string {
	return fmt.Sprintf("%s%-8s %s -> %s %s\n%s         %s\n", indent, kind, d.Source, d.Destination, d.Ports, indent, d.Reason)
}

// WriteText writes reports for people: each environment's summary, then
// its differences.
func WriteText(w io.Writer, reports []*Report) error {
	for _, r := range reports {
		if _, err := fmt.Fprintf(w, "%s: %s\n", EnvLabel(r.Environment), r.Summary()); err != nil {
			return err
		}
		for _, d := range r.Missing {
			if _, err := io.WriteString(w, DifferenceText("  ", "missing", d)); err != nil {
				return err
			}
		}
		for _, d := range r.Excess {
			if _, err := io.WriteString(w, DifferenceText("  ", "excess", d)); err != nil {
				return err
			}
		}
	}
	return nil
}
