package diff

import (
	"io"

	"github.com/netdep/netdep/generator/report"
)

// Output is a comparison between revisions as a report.Report: text (with
// Text's options), markdown (a pull-request comment) or JSON
// (docs/diff-json.md).
type Output struct {
	Report   *Report
	Text     TextOptions
	Markdown MarkdownOptions
}

// Formats are text, markdown and json.
func (o Output) Formats() []string { return []string{report.Text, report.Markdown, report.JSON} }

// Write writes the comparison in format.
func (o Output) Write(w io.Writer, format string) error {
	switch format {
	case report.Text:
		return WriteText(w, o.Report, o.Text)
	case report.Markdown:
		return WriteMarkdown(w, o.Report, o.Markdown)
	case report.JSON:
		return WriteJSON(w, o.Report)
	}
	return report.UnknownFormat(format, o)
}

// TreeOutput is a staleness check of a tree on disk as a report.Report:
// text or JSON.
type TreeOutput struct {
	Report *TreeReport
	Text   TextOptions
}

// Formats are text and json.
func (o TreeOutput) Formats() []string { return []string{report.Text, report.JSON} }

// Write writes the check in format.
func (o TreeOutput) Write(w io.Writer, format string) error {
	switch format {
	case report.Text:
		return WriteTreeText(w, o.Report, o.Text)
	case report.JSON:
		return WriteTreeJSON(w, o.Report)
	}
	return report.UnknownFormat(format, o)
}
