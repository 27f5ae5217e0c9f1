package app

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/policy"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/schema"
)

type explainOptions struct {
	env       string
	out       string
	manifests []string
}

// NewExplainCommand builds `netdep explain`.
func NewExplainCommand(streams Streams) *cobra.Command {
	o := &explainOptions{}
	cmd := &cobra.Command{
		Use:   "explain SRC DST[:PORT[/PROTO]] [PATH...]",
		Short: "Say whether a connection is allowed, and which policies and rules decide it",
		Long: `Evaluate one connection with standard NetworkPolicy semantics and name what
decides it: the policies that isolate the source for egress and the
destination for ingress, and the rules that admit the connection (or that
none does).

SRC and DST are one of
  ns/svc            the pods of a declared service
  svc               a service whose name is unique across namespaces
  ns/*              a pod with no labels in namespace ns (any namespace)
  ns/{k=v,...}      a pod with exactly these labels in namespace ns
  10.1.2.3          an address outside the cluster ([2001:db8::1] for IPv6)

PORT is a number or a port name of DST, optionally with /TCP, /UDP or /SCTP.
Without a port, every port DST declares is checked.

By default the policies are the ones netdep generates for the dependency files
under PATH; --out reads a generated tree and --manifests any NetworkPolicy
manifests instead. Without --env, every environment is checked.

Exit 0 when allowed (in every environment checked), 1 when denied, 2 on bad
input.`,
		Example: `  # may the frontend call the cart's grpc port?
  netdep explain storefront/frontend storefront/cart:grpc examples/shop

  # every port the checkout service declares, in prod only
  netdep explain storefront/frontend checkout/checkout examples/shop --env prod

  # DNS, and an address outside the cluster
  netdep explain storefront/frontend 'kube-system/{k8s-app=kube-dns}:53/UDP' examples/shop --env dev
  netdep explain payments/payment 198.51.100.7:443 examples/shop --env prod

  # the committed tree, or hand-written manifests
  netdep explain storefront/frontend storefront/cart:7070 examples/shop --out examples/shop/netpol
  netdep explain default/trusted-app default/my-app:80 examples/seed --manifests ./live-policies`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) < 2 {
				return usageError{fmt.Errorf("explain needs SRC and DST, found %d argument(s)", len(args))}
			}
			return nil
		},
		ValidArgsFunction: completeExplainArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.out != "" && len(o.manifests) > 0 {
				return usageError{fmt.Errorf("--out and --manifests exclude each other")}
			}
			out, err := generator.FromPaths(pathsOrDot(args[2:]))
			if err != nil {
				return err
			}
			if err := reportWarnings(out, false, streams.Err); err != nil {
				return err
			}
			envs := out.Spec.EnvNames()
			if o.env != "" {
				if err := checkEnv(out, o.env); err != nil {
					return err
				}
				envs = []string{o.env}
			}
			var manifests []*networkingv1.NetworkPolicy
			if len(o.manifests) > 0 {
				m, err := verify.LoadManifests(o.manifests)
				if err != nil {
					return err
				}
				manifests = m.Policies
			}
			denied := false
			var skipped []error
			var buf bytes.Buffer
			sep := func(i int) string {
				if i > 0 {
					return "\n"
				}
				return ""
			}
			for i, env := range envs {
				policies := manifests
				switch {
				case o.out != "":
					dir := filepath.Join(o.out, "base")
					if env != "" {
						dir = filepath.Join(o.out, "overlays", env)
					}
					if policies, err = verify.BuildKustomization(dir); err != nil {
						return err
					}
				case len(o.manifests) == 0:
					policies = out.Set.Render(env)
				}
				answers, err := explain(out.Spec, env, policies, args[0], args[1])
				var missing notInEnv
				if len(envs) > 1 && errors.As(err, &missing) {
					// Answered in the environments where both ends exist.
					skipped = append(skipped, err)
					fmt.Fprintf(&buf, "%s%s: skipped: %v\n", sep(i), env, missing.error)
					continue
				}
				if errors.As(err, &missing) {
					return usageError{err}
				}
				if err != nil {
					return err
				}
				if len(envs) > 1 {
					fmt.Fprintf(&buf, "%s%s:\n", sep(i), envLabel(env))
				}
				for _, a := range answers {
					a.write(&buf)
					denied = denied || !a.verdict.Allowed
				}
			}
			if len(skipped) == len(envs) {
				return usageError{skipped[0]}
			}
			if _, err := buf.WriteTo(streams.Out); err != nil {
				return err
			}
			if denied {
				return errDifferent
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.env, "env", "", "check only this environment")
	cmd.Flags().StringVarP(&o.out, "out", "o", "", "evaluate the generated tree in this directory instead of generating in memory")
	cmd.Flags().StringSliceVar(&o.manifests, "manifests", nil, "evaluate these NetworkPolicy manifests (files, directories, kustomizations)")
	registerEnvCompletion(cmd)
	return cmd
}

// endpoint is SRC or DST as written, resolved against the spec.
type endpoint struct {
	text string
	// One of: a pod (namespace + labels, service when it is one), or an
	// address.
	namespace string
	labels    map[string]string
	service   *schema.Service
	addr      netip.Addr
	isAddr    bool
}

func (e endpoint) String() string { return e.text }

// podName is how the world names the pod standing for e.
func (e endpoint) podName() string {
	switch {
	case e.service != nil:
		return e.service.Name
	case len(e.labels) == 0:
		return "(unlabelled)"
	}
	keys := make([]string, 0, len(e.labels))
	for k := range e.labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + e.labels[k]
	}
	return "(pods " + strings.Join(parts, ",") + ")"
}

// parseEndpoint reads "ns/svc", "svc", "ns/*", "ns/{k=v}" or an address.
func parseEndpoint(env *schema.Environment, s string) (endpoint, error) {
	e := endpoint{text: s}
	if a, err := netip.ParseAddr(strings.Trim(s, "[]")); err == nil {
		e.addr, e.isAddr = a.Unmap(), true
		return e, nil
	}
	ns, name, ok := strings.Cut(s, "/")
	if !ok {
		var found []*schema.Service
		for _, svc := range env.Services {
			if svc.Name == s {
				found = append(found, svc)
			}
		}
		switch len(found) {
		case 1:
			e.namespace, e.service, e.labels = found[0].Namespace, found[0], found[0].Selector
			e.text = found[0].ID()
			return e, nil
		case 0:
			return e, notInEnv{fmt.Errorf("%q: expected ns/svc, ns/*, ns/{labels} or an address; no service %q %s", s, s, inEnv(env))}
		}
		ids := make([]string, len(found))
		for i, f := range found {
			ids[i] = f.ID()
		}
		return e, fmt.Errorf("%q: service name in several namespaces; write one of %s", s, strings.Join(ids, ", "))
	}
	e.namespace = ns
	switch {
	case name == "*" || name == "(unlabelled)":
		return e, nil
	case strings.HasPrefix(name, "{") && strings.HasSuffix(name, "}"):
		e.labels = map[string]string{}
		for _, kv := range strings.Split(strings.Trim(name, "{}"), ",") {
			if kv = strings.TrimSpace(kv); kv == "" {
				continue
			}
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return e, fmt.Errorf("%q: expected labels as {key=value,...}, found %q", s, kv)
			}
			e.labels[k] = v
		}
		// Labels that are exactly a service's selector are that service.
		for _, svc := range env.Services {
			if svc.Namespace == ns && sameLabels(svc.Selector, e.labels) {
				e.service = svc
			}
		}
		return e, nil
	}
	for _, svc := range env.Services {
		if svc.Namespace == ns && svc.Name == name {
			e.service, e.labels = svc, svc.Selector
			return e, nil
		}
	}
	return e, notInEnv{fmt.Errorf("%q: no service %q in namespace %q %s", s, name, ns, inEnv(env))}
}

// notInEnv is a service that does not exist in the environment being
// checked; with several environments, the others are still answered.
type notInEnv struct{ error }

func inEnv(env *schema.Environment) string {
	if env.Name == "" {
		return "is declared"
	}
	return "exists in environment " + env.Name
}

func sameLabels(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// splitPort cuts ":PORT[/PROTO]" off DST, minding IPv6 addresses.
func splitPort(s string) (string, string) {
	if strings.HasPrefix(s, "[") {
		if i := strings.Index(s, "]"); i >= 0 {
			rest := s[i+1:]
			return s[:i+1], strings.TrimPrefix(rest, ":")
		}
	}
	if _, err := netip.ParseAddr(s); err == nil {
		return s, ""
	}
	if i := strings.LastIndex(s, ":"); i >= 0 && !strings.Contains(s[i:], "}") {
		return s[:i], s[i+1:]
	}
	return s, ""
}

// portQuery is one port to check, with what to call it.
type portQuery struct {
	proto corev1.Protocol
	port  int32
	label string
}

// dstPorts resolves PORT against the destination, or lists every port it
// declares.
func dstPorts(dst endpoint, port string) ([]portQuery, error) {
	var declared []schema.Port
	if dst.service != nil {
		declared = dst.service.Ports
	}
	if port == "" {
		if dst.service == nil {
			return nil, fmt.Errorf("%s is not a service, so it declares no ports; give one: %s:PORT[/PROTO]", dst, dst)
		}
		if len(declared) == 0 {
			return nil, fmt.Errorf("%s declares no ports; give one: %s:PORT[/PROTO]", dst, dst)
		}
		var out []portQuery
		for _, p := range declared {
			out = append(out, portQuery{p.Protocol, p.Port, portLabel(p)})
		}
		return out, nil
	}
	num, protoText, hasProto := strings.Cut(port, "/")
	var proto corev1.Protocol
	if hasProto {
		switch strings.ToUpper(protoText) {
		case "TCP", "UDP", "SCTP":
			proto = corev1.Protocol(strings.ToUpper(protoText))
		default:
			return nil, fmt.Errorf("unknown protocol %q: expected TCP, UDP or SCTP", protoText)
		}
	}
	if n, err := strconv.Atoi(num); err == nil {
		if n < 1 || n > 65535 {
			return nil, fmt.Errorf("port %d out of range: expected 1 to 65535", n)
		}
		if proto == "" {
			// A number the destination declares for one protocol only means
			// that protocol; otherwise TCP, as Kubernetes defaults it.
			proto = corev1.ProtocolTCP
			var protos []corev1.Protocol
			for _, p := range declared {
				if int32(n) >= p.Port && (int32(n) <= p.EndPort || int32(n) == p.Port) && !slices.Contains(protos, p.Protocol) {
					protos = append(protos, p.Protocol)
				}
			}
			if len(protos) == 1 {
				proto = protos[0]
			}
		}
		q := portQuery{proto, int32(n), strconv.Itoa(n) + "/" + string(proto)}
		for _, p := range declared {
			if p.Name != "" && p.Protocol == proto && p.Port == int32(n) && p.EndPort == 0 {
				q.label += " (" + p.Name + ")"
			}
		}
		return []portQuery{q}, nil
	}
	var names []string
	for _, p := range declared {
		if p.Name == num && (proto == "" || proto == p.Protocol) {
			return []portQuery{{p.Protocol, p.Port, portLabel(p)}}, nil
		}
		if p.Name != "" {
			names = append(names, p.Name)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("%s has no port named %q: give a number", dst, num)
	}
	return nil, fmt.Errorf("%s has no port named %q (it declares %s)", dst, num, strings.Join(names, ", "))
}

func portLabel(p schema.Port) string {
	s := strconv.Itoa(int(p.Port)) + "/" + string(p.Protocol)
	if p.EndPort != 0 {
		s += " (first port of " + strconv.Itoa(int(p.Port)) + "-" + strconv.Itoa(int(p.EndPort)) + ")"
	} else if p.Name != "" {
		s += " (" + p.Name + ")"
	}
	return s
}

// endpointError says which argument is wrong; a service missing from this
// environment stays a notInEnv.
func endpointError(arg string, err error) error {
	var missing notInEnv
	if errors.As(err, &missing) {
		return notInEnv{fmt.Errorf("%s %w", arg, missing.error)}
	}
	return usageError{fmt.Errorf("%s %w", arg, err)}
}

// answer is one checked connection.
type answer struct {
	src, dst endpoint
	port     portQuery
	verdict  eval.Verdict
	// sources are the netdep.io/source annotations of the policies, where
	// they have one: the dependency file to edit.
	sources map[eval.PolicyRef]string
}

// explain evaluates SRC -> DST in env over the world verify uses, plus the
// pods SRC and DST name when the world lacks them.
func explain(spec *schema.Spec, env string, policies []*networkingv1.NetworkPolicy, srcArg, dstArg string) ([]answer, error) {
	e := spec.Environment(env)
	src, err := parseEndpoint(e, srcArg)
	if err != nil {
		return nil, endpointError("SRC", err)
	}
	dstText, portText := splitPort(dstArg)
	dst, err := parseEndpoint(e, dstText)
	if err != nil {
		return nil, endpointError("DST", err)
	}
	ports, err := dstPorts(dst, portText)
	if err != nil {
		return nil, usageError{fmt.Errorf("DST %w", err)}
	}
	w := verify.NewWorld(env, spec)
	u := w.Universe
	for _, ep := range []endpoint{src, dst} {
		if ep.isAddr {
			continue
		}
		exists := slices.ContainsFunc(u.Pods, func(p eval.Pod) bool {
			return p.Namespace == ep.namespace && p.Name == ep.podName()
		})
		if !exists {
			u.Pods = append(slices.Clip(u.Pods), eval.Pod{Namespace: ep.namespace, Name: ep.podName(), Labels: ep.labels})
		}
	}
	ev, err := eval.New(u, policies)
	if err != nil {
		return nil, err
	}
	at := func(ep endpoint) eval.Endpoint {
		if ep.isAddr {
			return ev.ExternalFor(ep.addr)
		}
		i, _ := ev.PodIndex(ep.namespace, ep.podName())
		return eval.PodEndpoint(i)
	}
	sources := map[eval.PolicyRef]string{}
	for _, p := range ev.Policies() {
		if src := p.Annotations[policy.SourceAnnotation]; src != "" {
			sources[eval.PolicyRef{Namespace: p.Namespace, Name: p.Name}] = src
		}
	}
	var out []answer
	for _, p := range ports {
		v := ev.Explain(eval.Query{Src: at(src), Dst: at(dst), Protocol: p.proto, Port: p.port})
		out = append(out, answer{src, dst, p, v, sources})
	}
	return out, nil
}

func (a answer) write(w io.Writer) {
	verdict := "denied"
	if a.verdict.Allowed {
		verdict = "allowed"
	}
	fmt.Fprintf(w, "%s: %s -> %s on %s\n", verdict, a.src, a.dst, a.port.label)
	on := a.port.label
	if i := strings.Index(on, " ("); i >= 0 {
		on = on[:i]
	}
	fmt.Fprintf(w, "  egress at %s: %s\n", a.src, a.describe(a.src, a.verdict.Egress, "egress", "lets it reach "+a.dst.text+" on "+on))
	fmt.Fprintf(w, "  ingress at %s: %s\n", a.dst, a.describe(a.dst, a.verdict.Ingress, "ingress", "admits "+a.src.text+" on "+on))
}

func (a answer) describe(self endpoint, d eval.Direction, dir, what string) string {
	switch {
	case self.isAddr:
		return "an address outside the cluster; policies do not isolate it"
	case len(d.Isolating) == 0:
		return "not isolated (no policy selects it for " + dir + ")"
	case d.Allowed:
		rules := make([]string, len(d.Allowing))
		for i, r := range d.Allowing {
			rules[i] = r.PolicyRef.String() + " " + dir + "[" + strconv.Itoa(r.Rule) + "]"
			if src := a.sources[r.PolicyRef]; src != "" {
				rules[i] += " (" + src + ")"
			}
		}
		return "allowed by " + strings.Join(rules, ", ")
	}
	pols := make([]string, len(d.Isolating))
	for i, p := range d.Isolating {
		pols[i] = p.String()
	}
	slices.Sort(pols)
	return "isolated by " + strings.Join(pols, ", ") + "; no rule " + what
}
