//go:build unix

package generator_test

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+sys CPU time so far: on a shared machine
// the benchmarks' ns/op includes waiting for a core, CPU time does not.
func cpuTime() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
