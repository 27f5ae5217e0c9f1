// Package app holds netdep's commands: one file per command, each mapping its
// flags to library options, calling the library and writing to the streams it
// is given. Exit codes are decided in one place, Main.
package app
