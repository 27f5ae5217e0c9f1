// Package schema owns netdep's input: the dependency-file and project-file
// model (schema v1), strict loading on yaml.v3 nodes so that every problem
// carries a file, line and column, validation, and resolution into a Spec in
// which every reference is bound and every environment's intents are explicit.
//
// The rest of netdep consumes only Spec: nothing outside this package reads a
// dependency file.
package schema
