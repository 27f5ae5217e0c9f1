// Command evalbench measures one NetworkPolicy evaluator on a generated
// organisation (evaltest.Org) and prints CPU seconds and peak memory as
// key=value pairs; tests/scripts/bench-eval.sh runs it for netdep and cyclonus.
//
// netdep computes the whole matrix: every pod and address class, every
// port of every protocol. cyclonus is asked pair by pair, as its own tools
// do, one probe per ordered pair of pods (the destination's first port):
// less than netdep answers, so its figures are a lower bound. With
// -sample K it asks only every K-th source and scales CPU by K (by default
// K keeps it to about 200,000 questions; -sample 1 asks every pair).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"syscall"
	"time"

	"github.com/mattfenwick/cyclonus/pkg/matcher"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/eval/evaltest"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
)

func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return float64(ru.Maxrss) / 1024 // KiB on Linux
}

func main() {
	impl := flag.String("impl", "netdep", "netdep or cyclonus")
	n := flag.Int("workloads", 2000, "workloads (one pod and one policy each)")
	sample := flag.Int("sample", 0, "cyclonus: ask every K-th source only and scale CPU by K; 0 picks K so that about 200,000 pairs are asked")
	flag.Parse()

	u, ps := evaltest.Org(*n, 1)
	if *sample <= 0 {
		*sample = max(1, len(u.Pods)*len(u.Pods)/200_000)
	}
	runtime.GC()
	inputRSS := maxRSSMiB()
	start := cpu()
	var answer string
	switch *impl {
	case "netdep":
		e, err := eval.New(u, ps)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		r := e.Reachability()
		pairs := 0
		r.Each(func(fs eval.FlowSet) bool {
			pairs += len(fs.Srcs) * len(fs.Dsts)
			return true
		})
		answer = fmt.Sprintf("allowed_pairs=%d (all ports, pods and %d address classes)", pairs, len(e.Externals()))
	case "cyclonus":
		var defaulted []*networkingv1.NetworkPolicy
		for _, p := range ps {
			defaulted = append(defaulted, eval.Default(p))
		}
		pol := matcher.BuildNetworkPolicies(false, defaulted)
		nsLabels := map[string]map[string]string{}
		for _, ns := range u.Namespaces {
			l := map[string]string{eval.NamespaceNameLabel: ns.Name}
			for k, v := range ns.Labels {
				l[k] = v
			}
			nsLabels[ns.Name] = l
		}
		peers := make([]*matcher.TrafficPeer, len(u.Pods))
		for i, p := range u.Pods {
			peers[i] = &matcher.TrafficPeer{IP: "192.0.2.1", Internal: &matcher.InternalPeer{PodLabels: p.Labels, NamespaceLabels: nsLabels[p.Namespace], Namespace: p.Namespace}}
		}
		allowed, asked := 0, 0
		for s := 0; s < len(u.Pods); s += *sample {
			for d := range u.Pods {
				tr := &matcher.Traffic{Source: peers[s], Destination: peers[d], ResolvedPort: 80, Protocol: corev1.ProtocolTCP}
				if ports := u.Pods[d].Ports; len(ports) > 0 {
					tr.ResolvedPort, tr.ResolvedPortName = int(ports[0].ContainerPort), ports[0].Name
					if ports[0].Protocol != "" {
						tr.Protocol = ports[0].Protocol
					}
				}
				asked++
				if pol.IsTrafficAllowed(tr).IsAllowed() {
					allowed++
				}
			}
		}
		answer = fmt.Sprintf("allowed_probes=%d of %d (one port per pair)", allowed, asked)
	default:
		fmt.Fprintf(os.Stderr, "unknown -impl %q\n", *impl)
		os.Exit(2)
	}
	used := cpu() - start
	scaled := ""
	if *impl == "cyclonus" && *sample > 1 {
		used *= time.Duration(*sample)
		scaled = fmt.Sprintf(" (measured on 1/%d of the sources, scaled)", *sample)
	}
	fmt.Printf("impl=%s workloads=%d pods=%d policies=%d cpu_s=%.2f%s peak_rss_mib=%.0f input_rss_mib=%.0f %s\n",
		*impl, *n, len(u.Pods), len(ps), used.Seconds(), scaled, maxRSSMiB(), inputRSS, answer)
}
