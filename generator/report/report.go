// Package report is the one shape of what netdep reports: a value with a
// writer per output format. Commands pick the format (-o/--output) and call
// Write; a new report, or a new format of an old one, is added here and in
// the report's own package, never in a command.
package report

import (
	"encoding/json"
	"fmt"
	"io"
)

// The output formats.
const (
	Text     = "text"
	JSON     = "json"
	Markdown = "markdown"
)

// Report is a result a command prints.
type Report interface {
	// Formats are the formats it can be written in, the default first.
	Formats() []string
	// Write writes it in format, one of Formats.
	Write(w io.Writer, format string) error
}

// WriteJSON writes v as every -o json does: indented by two spaces,
// one trailing newline.
func WriteJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// UnknownFormat is the error of a Write asked for a format its report does
// not have.
func UnknownFormat(format string, r Report) error {
	return fmt.Errorf("unknown format %q (expected %v)", format, r.Formats())
}
