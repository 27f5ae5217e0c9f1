package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// namePrefix starts the name of every network namespace a run creates, so
// that a later run can find and remove what a killed run left behind, and so
// that nothing else on the machine is ever touched. The test process's PID
// follows it: "nde2e-<pid>-<role>".
const namePrefix = "nde2e-"

// NetNS is a named network namespace (as `ip netns add` makes it) that this
// run created.
type NetNS struct {
	Name string
}

// ipCmd runs `ip args...` and returns its error with its output.
func ipCmd(ctx context.Context, args ...string) error {
	return runCmd(ctx, "ip", args...)
}

func runCmd(ctx context.Context, name string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// NewNetNS creates a network namespace with its loopback up.
func NewNetNS(ctx context.Context, name string) (*NetNS, error) {
	if err := ipCmd(ctx, "netns", "add", name); err != nil {
		return nil, err
	}
	n := &NetNS{Name: name}
	if err := ipCmd(ctx, "-n", name, "link", "set", "lo", "up"); err != nil {
		_ = n.Delete(ctx)
		return nil, err
	}
	return n, nil
}

// Do runs fn on an OS thread that has entered the namespace. Sockets fn
// creates belong to the namespace for their whole life, whichever thread uses
// them later. The thread goes back to its original namespace before it is
// handed back to the Go scheduler; if that fails it stays locked and dies
// with the goroutine, so no other goroutine ever runs in the wrong namespace.
func (n *NetNS) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+n.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("open netns %s: %w", n.Name, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("enter netns %s: %w", n.Name, err)
			return
		}
		err = fn()
		if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		errc <- err
	}()
	return <-errc
}

// DialContext dials from inside the namespace; it is the Dial of the API
// client, whose server listens on the node namespace's loopback.
func (n *NetNS) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

// Command returns a command that runs inside the namespace. `ip netns exec`
// execs the program itself, so the process's PID is the program's.
func (n *NetNS) Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	// Its own process group, so stopping it stops anything it forks; killed
	// if the test process dies without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	return cmd
}

// Output runs a short command inside the namespace and returns its stdout.
func (n *NetNS) Output(ctx context.Context, name string, args ...string) ([]byte, error) {
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s %s in %s: %w: %s", name, strings.Join(args, " "), n.Name, err, strings.TrimSpace(errb.String()))
	}
	return out.Bytes(), nil
}

// Sysctl writes a /proc/sys/net value of this namespace (those files are per
// network namespace of the writing thread).
func (n *NetNS) Sysctl(key, value string) error {
	return n.Do(func() error {
		return os.WriteFile("/proc/sys/"+strings.ReplaceAll(key, ".", "/"), []byte(value), 0o644)
	})
}

// Delete kills every process still inside the namespace (only this run's
// processes can be there) and removes it. Removing the namespace removes its
// veths, routes, iptables rules and ipsets with it.
func (n *NetNS) Delete(ctx context.Context) error {
	killNetNSProcesses(ctx, n.Name)
	return ipCmd(ctx, "netns", "delete", n.Name)
}

func killNetNSProcesses(ctx context.Context, name string) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", name).Output()
	if err != nil {
		return
	}
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid > 1 && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// SweepOwn removes every namespace of this process, whether or not the code
// that created it got to record it (a signal can arrive between `ip netns
// add` and the bookkeeping).
func SweepOwn(ctx context.Context) {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return
	}
	own := runTag() + "-"
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(f[0], own) {
			_ = (&NetNS{Name: f[0]}).Delete(ctx)
		}
	}
}

// SweepStale removes the namespaces of earlier runs whose test process is
// gone (a run killed with SIGKILL cannot clean up after itself). Namespaces
// of runs still alive are left alone.
func SweepStale(ctx context.Context) []string {
	out, err := exec.CommandContext(ctx, "ip", "netns", "list").Output()
	if err != nil {
		return nil
	}
	var removed []string
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], namePrefix) {
			continue
		}
		name := f[0]
		rest := strings.TrimPrefix(name, namePrefix)
		pidStr, _, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if !ok || err != nil {
			continue
		}
		if pid != os.Getpid() && syscall.Kill(pid, 0) == nil {
			continue // its run is still going
		}
		if pid == os.Getpid() {
			continue
		}
		if (&NetNS{Name: name}).Delete(ctx) == nil {
			removed = append(removed, name)
		}
	}
	return removed
}
