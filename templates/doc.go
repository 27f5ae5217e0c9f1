// Package templates holds the files `netdep init` scaffolds and the page
// `netdep report --format html` writes, embedded in the binary. It is its own package because //go:embed reaches only files in
// its package's directory and below.
//
// Each template is a text/template executed with init's answers (see
// cmd/netdep/app/init.go); the result must load and generate cleanly, which
// init checks before it writes anything.
package templates

import "embed"

// FS holds project.yaml.tmpl (the project file: environments and cluster
// settings) and deps.yaml.tmpl (a team's first dependency file), and
// report.html.tmpl (html/template: the posture report, package
// generator/posture, with its CSS and JavaScript inline).
//
//go:embed *.tmpl
var FS embed.FS
