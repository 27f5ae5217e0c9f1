package e2e

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Listeners answer every probe with the listening endpoint's ID, so a probe
// that passes proves it reached the intended pod, not just some socket.
type Listeners struct {
	closers []func() error
	wg      sync.WaitGroup
}

// Listen opens a TCP or UDP listener for every probe port inside the
// endpoint's namespace.
func (l *Listeners) Listen(ns *NetNS, e *Endpoint, probes []Probe) error {
	ident := []byte(e.ID() + "\n")
	return ns.Do(func() error {
		for _, p := range probes {
			addr := net.JoinHostPort(e.IP.String(), strconv.Itoa(int(p.Port)))
			switch p.Protocol {
			case corev1.ProtocolTCP:
				ln, err := net.Listen("tcp4", addr)
				if err != nil {
					return fmt.Errorf("%s: listen %s: %w", e.ID(), p, err)
				}
				l.closers = append(l.closers, ln.Close)
				l.wg.Add(1)
				go func() {
					defer l.wg.Done()
					for {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						_ = c.SetDeadline(time.Now().Add(5 * time.Second))
						_, _ = c.Write(ident)
						_ = c.Close()
					}
				}()
			case corev1.ProtocolUDP:
				pc, err := net.ListenPacket("udp4", addr)
				if err != nil {
					return fmt.Errorf("%s: listen %s: %w", e.ID(), p, err)
				}
				l.closers = append(l.closers, pc.Close)
				l.wg.Add(1)
				go func() {
					defer l.wg.Done()
					buf := make([]byte, 512)
					for {
						_, from, err := pc.ReadFrom(buf)
						if err != nil {
							return
						}
						_, _ = pc.WriteTo(ident, from)
					}
				}()
			}
		}
		return nil
	})
}

// Close stops every listener and waits for their goroutines.
func (l *Listeners) Close() {
	for _, c := range l.closers {
		_ = c()
	}
	l.wg.Wait()
	l.closers = nil
}

// Outcome is what one probe saw.
type Outcome string

const (
	Passed      Outcome = "passed"      // the target answered with its own ID
	Refused     Outcome = "refused"     // REJECT (ICMP port unreachable / TCP reset)
	TimedOut    Outcome = "timeout"     // DROP, or nothing answered
	Unreachable Outcome = "unreachable" // ICMP host/net unreachable or prohibited
	Misrouted   Outcome = "misrouted"   // someone else answered: a broken test bed
	Errored     Outcome = "error"
)

// Timeouts: a denied probe is rejected within a millisecond by kube-router;
// an agent that drops instead costs one timeout per denied probe, which the
// prober's concurrency hides.
const (
	tcpTimeout = 2 * time.Second
	udpTimeout = 1500 * time.Millisecond
	udpTries   = 3
)

// ProbeFlow opens one connection from f.From's namespace to f.To and reports
// what happened. For UDP, a reply is the only proof of passage; the request
// is repeated so that a lost datagram is not taken for a block.
func ProbeFlow(ctx context.Context, from *NetNS, f Flow) (Outcome, string) {
	return ProbeFlowFrom(ctx, from, f, 0)
}

// ProbeFlowFrom is ProbeFlow with the UDP source port chosen by the caller
// (0: the kernel's ephemeral choice). A prober that repeats the same UDP flow
// many times a second picks ports that do not repeat soon: a datagram that
// reuses a recent tuple would ride its conntrack entry through the agent's
// ESTABLISHED accept and pass whatever the policies say.
func ProbeFlowFrom(ctx context.Context, from *NetNS, f Flow, udpPort int) (Outcome, string) {
	addr := net.JoinHostPort(f.To.IP.String(), strconv.Itoa(int(f.Port)))
	want := f.To.ID()
	var out Outcome
	var detail string
	err := from.Do(func() error {
		switch f.Protocol {
		case corev1.ProtocolTCP:
			out, detail = probeTCP(ctx, addr, want)
		case corev1.ProtocolUDP:
			out, detail = probeUDP(ctx, addr, want, udpPort)
		default:
			out, detail = Errored, "protocol not probed"
		}
		return nil
	})
	if err != nil {
		return Errored, err.Error()
	}
	return out, detail
}

func probeTCP(ctx context.Context, addr, want string) (Outcome, string) {
	ctx, cancel := context.WithTimeout(ctx, tcpTimeout)
	defer cancel()
	c, err := (&net.Dialer{}).DialContext(ctx, "tcp4", addr)
	if err != nil {
		return classify(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(tcpTimeout))
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return classify(err)
	}
	if got := strings.TrimSpace(line); got != want {
		return Misrouted, "answered by " + got
	}
	return Passed, ""
}

func probeUDP(ctx context.Context, addr, want string, localPort int) (Outcome, string) {
	d := &net.Dialer{}
	if localPort != 0 {
		d.LocalAddr = &net.UDPAddr{Port: localPort}
	}
	c, err := d.DialContext(ctx, "udp4", addr)
	if err != nil {
		return classify(err)
	}
	defer c.Close()
	buf := make([]byte, 512)
	var last error
	for i := 0; i < udpTries; i++ {
		if _, err := c.Write([]byte("probe\n")); err != nil {
			last = err
			if o, _ := classify(err); o != TimedOut {
				break
			}
			continue
		}
		_ = c.SetReadDeadline(time.Now().Add(udpTimeout / udpTries))
		n, err := c.Read(buf)
		if err != nil {
			last = err
			if o, _ := classify(err); o != TimedOut {
				break // an ICMP error is an answer: no use asking again
			}
			continue
		}
		if got := strings.TrimSpace(string(buf[:n])); got != want {
			return Misrouted, "answered by " + got
		}
		return Passed, ""
	}
	return classify(last)
}

func classify(err error) (Outcome, string) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET):
		return Refused, ""
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH),
		errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return Unreachable, err.Error()
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return TimedOut, ""
	}
	return Errored, err.Error()
}
