//go:build !unix

package generator_test

import "time"

func cpuTime() (time.Duration, bool) { return 0, false }
