package diff

import (
	"net/netip"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// FlowException is the exception of the head's dependency files that
// declares a flow (schema.Exception), as a reviewer needs it.
type FlowException struct {
	Name    string `json:"name"`
	Owner   string `json:"owner"`
	Expires string `json:"expires"`
}

// notes are what follows a flow's ports for people: one-sidedness, then the
// exception that opens it.
func (f Flow) notes() string {
	return f.Direction.suffix() + exceptionNote(f.Exception)
}

// exceptionNote is " (exception E, expires D)", "" for no exception.
func exceptionNote(x *FlowException) string {
	if x == nil {
		return ""
	}
	return " (exception " + x.Name + ", expires " + x.Expires + ")"
}

// markExceptions sets Exception on each flow an exception rule of env
// declares: its ends are the rule's service and peer, and its ports meet
// the rule's. The first exception by name wins when several declare one
// flow.
func markExceptions(env *schema.Environment, flows []Flow) {
	if env == nil {
		return
	}
	var rules []*schema.Rule
	for i := range env.Rules {
		if env.Rules[i].Exception != nil {
			rules = append(rules, &env.Rules[i])
		}
	}
	if len(rules) == 0 {
		return
	}
	for i := range flows {
		f := &flows[i]
		for _, r := range rules {
			if !exceptionCovers(r, f) {
				continue
			}
			if x := r.Exception; f.Exception == nil || x.Name < f.Exception.Name {
				f.Exception = &FlowException{Name: x.Name, Owner: x.Owner, Expires: x.ExpiresText()}
			}
		}
	}
}

func exceptionCovers(r *schema.Rule, f *Flow) bool {
	local, far := f.From, f.To
	if r.Direction == schema.Ingress {
		local, far = f.To, f.From
	}
	if local.Kind != KindService || local.Namespace != r.Service.Namespace || local.Service != r.Service.Name {
		return false
	}
	if !peerIs(r.Peer, far) {
		return false
	}
	if r.AnyPort {
		return true
	}
	ranges := make([]eval.PortRange, len(r.Ports))
	for i, p := range r.Ports {
		proto := p.Protocol
		if proto == "" {
			proto = corev1.ProtocolTCP
		}
		ranges[i] = eval.PortRange{Protocol: proto, From: p.Port, To: max(p.Port, p.EndPort)}
	}
	return !eval.NewPortSet(ranges...).Intersect(fromPorts(f.Ports)).IsEmpty()
}

// peerIs says whether endpoint e is (inside) the rule's peer.
func peerIs(p schema.Peer, e Endpoint) bool {
	switch p.Kind {
	case schema.PeerService:
		return e.Kind == KindService && e.Namespace == p.Service.Namespace && e.Service == p.Service.Name
	case schema.PeerSelector:
		if e.Kind == KindExternal || e.Kind == KindHost || e.Kind == KindUnmanaged || e.Namespace != p.Namespace {
			return false
		}
		return p.Selector == nil || e.Kind == KindSelector && world.LabelKey(e.Labels) == world.LabelKey(p.Selector)
	case schema.PeerHost:
		return e.Kind == KindHost && eval.HostMatches(p.Host, e.Host)
	case schema.PeerCIDR:
		if e.Kind == KindHost {
			return eval.BlockHoldsHost(p.CIDR, p.Except)
		}
		if e.Kind != KindExternal {
			return false
		}
		block, err1 := netip.ParsePrefix(p.CIDR)
		class, err2 := netip.ParsePrefix(e.CIDR)
		if err1 != nil || err2 != nil || !block.Contains(class.Addr()) || class.Bits() < block.Bits() {
			return false
		}
		for _, x := range p.Except {
			if xp, err := netip.ParsePrefix(x); err == nil && xp.Contains(class.Addr()) && xp.Bits() <= class.Bits() {
				return false
			}
		}
		return true
	}
	return false
}
