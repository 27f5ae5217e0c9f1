package policy

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/netdep/netdep/schema"
)

// The cilium.io/v2 CiliumNetworkPolicy fields netdep emits, and only those
// (netdep's go.mod carries no Cilium module): json names and omitempty as
// in github.com/cilium/cilium pkg/policy/api, so the objects marshal as the
// upstream types would.
const (
	CiliumAPIVersion = "cilium.io/v2"
	CiliumKind       = "CiliumNetworkPolicy"
	// CiliumNamespaceLabel is the label Cilium gives every endpoint with
	// its namespace: an endpoint selector names another namespace with it.
	CiliumNamespaceLabel = "k8s:io.kubernetes.pod.namespace"
	// HostsSuffix ends the name of a service's CiliumNetworkPolicy:
	// "<service>.hosts". A dot cannot occur in a service name, and no
	// NetworkPolicy of a service ends in it unless an environment is named
	// hosts, which is a NetworkPolicy, another kind.
	HostsSuffix = ".hosts"
)

// CiliumNetworkPolicy is one cilium.io/v2 CiliumNetworkPolicy.
type CiliumNetworkPolicy struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              CiliumRule `json:"spec"`
}

// CiliumRule is the policy's spec (api.Rule).
type CiliumRule struct {
	EndpointSelector  CiliumSelector     `json:"endpointSelector"`
	EnableDefaultDeny *CiliumDefaultDeny `json:"enableDefaultDeny,omitempty"`
	Egress            []CiliumEgressRule `json:"egress,omitempty"`
}

// CiliumSelector is an endpoint selector of labels only.
type CiliumSelector struct {
	MatchLabels map[string]string `json:"matchLabels,omitempty"`
}

// CiliumDefaultDeny is api.DefaultDenyConfig: pointers, since false is the
// value netdep writes and must not be omitted.
type CiliumDefaultDeny struct {
	Egress  *bool `json:"egress,omitempty"`
	Ingress *bool `json:"ingress,omitempty"`
}

// CiliumEgressRule is api.EgressRule, of the peers netdep uses. Cilium
// refuses a rule combining toEndpoints with CIDRs or FQDNs, so netdep
// writes one kind of peer per rule (toCIDR and toCIDRSet may share one).
type CiliumEgressRule struct {
	ToEndpoints []CiliumSelector     `json:"toEndpoints,omitempty"`
	ToCIDR      []string             `json:"toCIDR,omitempty"`
	ToCIDRSet   []CiliumCIDRRule     `json:"toCIDRSet,omitempty"`
	ToFQDNs     []CiliumFQDNSelector `json:"toFQDNs,omitempty"`
	ToPorts     []CiliumPortRule     `json:"toPorts,omitempty"`
}

// CiliumCIDRRule is api.CIDRRule.
type CiliumCIDRRule struct {
	CIDR   string   `json:"cidr"`
	Except []string `json:"except,omitempty"`
}

// CiliumFQDNSelector is api.FQDNSelector (also the DNS proxy's
// api.PortRuleDNS, which has the same two fields).
type CiliumFQDNSelector struct {
	MatchName    string `json:"matchName,omitempty"`
	MatchPattern string `json:"matchPattern,omitempty"`
}

// CiliumPortRule is api.PortRule.
type CiliumPortRule struct {
	Ports []CiliumPortProtocol `json:"ports,omitempty"`
	Rules *CiliumL7Rules       `json:"rules,omitempty"`
}

// CiliumPortProtocol is api.PortProtocol: the port is a string.
type CiliumPortProtocol struct {
	Port     string `json:"port"`
	EndPort  int32  `json:"endPort,omitempty"`
	Protocol string `json:"protocol,omitempty"`
}

// CiliumL7Rules is api.L7Rules, DNS only.
type CiliumL7Rules struct {
	DNS []CiliumFQDNSelector `json:"dns,omitempty"`
}

// HostPolicyName is the CiliumNetworkPolicy of a service's host calls,
// "<service>.hosts", or of those an exception declares,
// "<service>.exception.<exception>.hosts".
func HostPolicyName(service string, x *schema.Exception) string {
	if x != nil {
		return ExceptionPolicyName(service, x.Name) + HostsSuffix
	}
	return service + HostsSuffix
}

// FQDNSelector is how Cilium names host: a wildcard "*.d" is a
// matchPattern (Cilium's "*." matches exactly one more label, the
// schema's meaning), any other name a matchName.
func FQDNSelector(host string) CiliumFQDNSelector {
	if strings.HasPrefix(host, "*") {
		return CiliumFQDNSelector{MatchPattern: host}
	}
	return CiliumFQDNSelector{MatchName: host}
}

// ciliumPolicies builds the CiliumNetworkPolicies of env: one per service
// (and per exception of it) with PeerHost egress rules, in managed
// namespaces that isolate egress, sorted by (namespace, name). Each only
// adds allows (enableDefaultDeny false both ways): isolation stays with
// the NetworkPolicies, so the CiliumNetworkPolicy changes no verdict but
// the host's.
func ciliumPolicies(spec *schema.Spec, env *schema.Environment) ([]*CiliumNetworkPolicy, error) {
	type key struct {
		service   *schema.Service
		exception *schema.Exception
	}
	type hostPorts struct {
		any   bool
		ports map[string]CiliumPortProtocol // by portKey
	}
	byKey := map[key]map[string]*hostPorts{}
	sources := map[key]string{}
	var keys []key
	for i := range env.Rules {
		r := &env.Rules[i]
		if r.Peer.Kind != schema.PeerHost {
			continue
		}
		if r.Direction != schema.Egress {
			return nil, fmt.Errorf("service %s: a host rule for ingress (%s): ingress has no name", r.Service.ID(), r.Peer.Host)
		}
		ns := spec.Namespace(r.Service.Namespace)
		if ns == nil || !ns.Managed || !ns.IsolateEgress {
			continue // egress is open there: nothing to allow
		}
		if env.DNS == nil {
			return nil, fmt.Errorf("service %s: host %s in environment %s: Cilium's FQDN policy needs the DNS proxy, and the environment has no DNS", r.Service.ID(), r.Peer.Host, env.Name)
		}
		k := key{r.Service, r.Exception}
		hosts := byKey[k]
		if hosts == nil {
			hosts = map[string]*hostPorts{}
			byKey[k] = hosts
			keys = append(keys, k)
			sources[k] = r.Service.Source.File
			if r.Exception != nil {
				sources[k] = r.Source.File
			}
		}
		hp := hosts[r.Peer.Host]
		if hp == nil {
			hp = &hostPorts{ports: map[string]CiliumPortProtocol{}}
			hosts[r.Peer.Host] = hp
		}
		if r.AnyPort {
			hp.any = true
			continue
		}
		for _, p := range r.Ports {
			cp := ciliumPort(p)
			hp.ports[portKey(cp)] = cp
		}
	}
	out := make([]*CiliumNetworkPolicy, 0, len(keys))
	for _, k := range keys {
		hosts := byKey[k]
		names := make([]string, 0, len(hosts))
		for h := range hosts {
			names = append(names, h)
		}
		sort.Strings(names)
		// One rule per distinct port set: a rule allows the cross product
		// of its names and ports, so grouping names with identical port
		// sets allows exactly the declared pairs.
		type group struct {
			key   string
			names []string
			ports []CiliumPortProtocol
		}
		groups := map[string]*group{}
		var order []*group
		for _, h := range names {
			hp := hosts[h]
			gk := "*"
			var ports []CiliumPortProtocol
			if !hp.any {
				pks := make([]string, 0, len(hp.ports))
				for pk := range hp.ports {
					pks = append(pks, pk)
				}
				sort.Strings(pks)
				gk = strings.Join(pks, ";")
				for _, pk := range pks {
					ports = append(ports, hp.ports[pk])
				}
			}
			g := groups[gk]
			if g == nil {
				g = &group{key: gk, ports: ports}
				groups[gk] = g
				order = append(order, g)
			}
			g.names = append(g.names, h)
		}
		sort.Slice(order, func(i, j int) bool { return order[i].key < order[j].key })
		off := false
		cnp := &CiliumNetworkPolicy{
			TypeMeta: metav1.TypeMeta{APIVersion: CiliumAPIVersion, Kind: CiliumKind},
			ObjectMeta: metav1.ObjectMeta{
				Name:        HostPolicyName(k.service.Name, k.exception),
				Namespace:   k.service.Namespace,
				Labels:      map[string]string{ManagedByLabel: ManagedByValue},
				Annotations: map[string]string{SourceAnnotation: sources[k], SyncWaveAnnotation: AllowWave},
			},
			Spec: CiliumRule{
				EndpointSelector:  CiliumSelector{MatchLabels: copyLabels(k.service.Selector)},
				EnableDefaultDeny: &CiliumDefaultDeny{Egress: &off, Ingress: &off},
			},
		}
		if x := k.exception; x != nil {
			cnp.Annotations[ExceptionAnnotation] = x.Name
			cnp.Annotations[ExceptionOwnerAnnotation] = x.Owner
			cnp.Annotations[ExceptionExpiresAnnotation] = x.ExpiresText()
			cnp.Annotations[ExceptionReasonAnnotation] = x.Reason
		}
		for _, g := range order {
			rule := CiliumEgressRule{}
			for _, h := range g.names {
				rule.ToFQDNs = append(rule.ToFQDNs, FQDNSelector(h))
			}
			if len(g.ports) > 0 {
				rule.ToPorts = []CiliumPortRule{{Ports: g.ports}}
			}
			cnp.Spec.Egress = append(cnp.Spec.Egress, rule)
		}
		cnp.Spec.Egress = append(cnp.Spec.Egress, dnsRules(env.DNS, names)...)
		out = append(out, cnp)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

// dnsRules are the egress rules to the environment's DNS that Cilium's DNS
// proxy needs to learn the hosts' addresses: the DNS ports with
// rules.dns naming exactly the hosts the policy allows (the proxy then
// answers lookups of other names with a refusal for these pods; the
// v1 allow-dns policy still admits them at L3/L4). Pods and addresses go
// in rules of their own: Cilium refuses toEndpoints mixed with CIDRs.
func dnsRules(dns *schema.DNS, hosts []string) []CiliumEgressRule {
	var ports []CiliumPortProtocol
	for _, p := range dns.Ports {
		ports = append(ports, ciliumPort(p))
	}
	var names []CiliumFQDNSelector
	for _, h := range hosts {
		names = append(names, FQDNSelector(h))
	}
	toPorts := []CiliumPortRule{{Ports: ports, Rules: &CiliumL7Rules{DNS: names}}}
	var pods, cidrs CiliumEgressRule
	for _, p := range dns.Peers {
		switch p.Kind {
		case schema.PeerSelector:
			labels := copyLabels(p.Selector)
			if labels == nil {
				labels = map[string]string{}
			}
			labels[CiliumNamespaceLabel] = p.Namespace
			pods.ToEndpoints = append(pods.ToEndpoints, CiliumSelector{MatchLabels: labels})
		case schema.PeerCIDR:
			if len(p.Except) == 0 {
				cidrs.ToCIDR = append(cidrs.ToCIDR, p.CIDR)
				continue
			}
			except := append([]string(nil), p.Except...)
			sort.Strings(except)
			cidrs.ToCIDRSet = append(cidrs.ToCIDRSet, CiliumCIDRRule{CIDR: p.CIDR, Except: except})
		}
	}
	var out []CiliumEgressRule
	for _, r := range []CiliumEgressRule{pods, cidrs} {
		if len(r.ToEndpoints)+len(r.ToCIDR)+len(r.ToCIDRSet) > 0 {
			r.ToPorts = toPorts
			out = append(out, r)
		}
	}
	return out
}

// ciliumPort writes the protocol always, as renderPort does for
// NetworkPolicies (Cilium's default is any protocol, not TCP).
func ciliumPort(p schema.Port) CiliumPortProtocol {
	proto := p.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	out := CiliumPortProtocol{Port: strconv.Itoa(int(p.Port)), Protocol: string(proto)}
	if p.EndPort > p.Port {
		out.EndPort = p.EndPort
	}
	return out
}

func portKey(p CiliumPortProtocol) string {
	n, _ := strconv.Atoi(p.Port)
	return fmt.Sprintf("%s/%05d-%05d", p.Protocol, n, p.EndPort)
}

// DeepCopy returns a copy sharing nothing with p.
func (p *CiliumNetworkPolicy) DeepCopy() *CiliumNetworkPolicy {
	q := *p
	p.ObjectMeta.DeepCopyInto(&q.ObjectMeta)
	q.Spec.EndpointSelector.MatchLabels = copyLabels(p.Spec.EndpointSelector.MatchLabels)
	if d := p.Spec.EnableDefaultDeny; d != nil {
		c := CiliumDefaultDeny{}
		if d.Egress != nil {
			v := *d.Egress
			c.Egress = &v
		}
		if d.Ingress != nil {
			v := *d.Ingress
			c.Ingress = &v
		}
		q.Spec.EnableDefaultDeny = &c
	}
	q.Spec.Egress = nil
	for _, r := range p.Spec.Egress {
		c := CiliumEgressRule{
			ToCIDR:  append([]string(nil), r.ToCIDR...),
			ToFQDNs: append([]CiliumFQDNSelector(nil), r.ToFQDNs...),
		}
		for _, s := range r.ToEndpoints {
			c.ToEndpoints = append(c.ToEndpoints, CiliumSelector{MatchLabels: copyLabels(s.MatchLabels)})
		}
		for _, s := range r.ToCIDRSet {
			c.ToCIDRSet = append(c.ToCIDRSet, CiliumCIDRRule{CIDR: s.CIDR, Except: append([]string(nil), s.Except...)})
		}
		for _, pr := range r.ToPorts {
			cp := CiliumPortRule{Ports: append([]CiliumPortProtocol(nil), pr.Ports...)}
			if pr.Rules != nil {
				cp.Rules = &CiliumL7Rules{DNS: append([]CiliumFQDNSelector(nil), pr.Rules.DNS...)}
			}
			c.ToPorts = append(c.ToPorts, cp)
		}
		q.Spec.Egress = append(q.Spec.Egress, c)
	}
	return &q
}
