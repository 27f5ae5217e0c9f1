package eval

import (
	"net/netip"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate returns what the API server would reject p for (k8s.io/kubernetes
// pkg/apis/networking/validation ValidateNetworkPolicy), with the API
// server's field paths and wording. p should be defaulted first (Default):
// validation runs on the stored form.
//
// CIDRs are checked strictly (StrictIPCIDRValidation, on in current API
// servers): no bits set beyond the prefix length, no leading zeros, no
// IPv4-mapped IPv6 addresses.
func Validate(p *networkingv1.NetworkPolicy) field.ErrorList {
	var errs field.ErrorList
	for _, msg := range validation.IsDNS1123Subdomain(p.Name) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), p.Name, msg))
	}
	for _, msg := range validation.IsDNS1123Label(p.Namespace) {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "namespace"), p.Namespace, msg))
	}
	spec := field.NewPath("spec")
	if !plainLabels(&p.Spec.PodSelector) {
		errs = append(errs, validateSelector(&p.Spec.PodSelector, spec.Child("podSelector"))...)
	}
	for i, rule := range p.Spec.Ingress {
		for j := range rule.Ports {
			errs = append(errs, validatePort(&rule.Ports[j], elemPath{"ingress", i, "ports", j})...)
		}
		for j := range rule.From {
			errs = append(errs, validatePeer(&rule.From[j], elemPath{"ingress", i, "from", j})...)
		}
	}
	for i, rule := range p.Spec.Egress {
		for j := range rule.Ports {
			errs = append(errs, validatePort(&rule.Ports[j], elemPath{"egress", i, "ports", j})...)
		}
		for j := range rule.To {
			errs = append(errs, validatePeer(&rule.To[j], elemPath{"egress", i, "to", j})...)
		}
	}
	types := []string{string(networkingv1.PolicyTypeIngress), string(networkingv1.PolicyTypeEgress)}
	if len(p.Spec.PolicyTypes) > len(types) {
		errs = append(errs, field.Invalid(spec.Child("policyTypes"), p.Spec.PolicyTypes, "may not specify more than two policyTypes"))
		return errs
	}
	for i, t := range p.Spec.PolicyTypes {
		if t != networkingv1.PolicyTypeIngress && t != networkingv1.PolicyTypeEgress {
			errs = append(errs, field.NotSupported(spec.Child("policyTypes").Index(i), t, types))
		}
	}
	return errs
}

func validateSelector(s *metav1.LabelSelector, path *field.Path) field.ErrorList {
	if plainLabels(s) {
		return nil
	}
	return metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, path)
}

// plainLabels is whether s is matchLabels only, every key and value of the
// plainest form the API accepts ([prefix/]name, each part checked by hand
// instead of by apimachinery's regular expressions, which were a twentieth
// of verify's time at 10,000 services). It is never true of a selector
// ValidateLabelSelector refuses (FuzzPlainLabels); where it is false,
// apimachinery decides and words the errors.
func plainLabels(s *metav1.LabelSelector) bool {
	if len(s.MatchExpressions) > 0 {
		return false
	}
	for k, v := range s.MatchLabels {
		if !plainLabel(k, v) {
			return false
		}
	}
	return true
}

// plainLabel is plainLabels of the one label k: v.
func plainLabel(k, v string) bool {
	return qualifiedName(k) && (v == "" || labelName(v))
}

// qualifiedName is [DNS-1123 subdomain "/"] label name.
func qualifiedName(s string) bool {
	prefix, name, ok := strings.Cut(s, "/")
	if !ok {
		return labelName(s)
	}
	return len(prefix) <= 253 && dnsSubdomain(prefix) && labelName(name)
}

// labelName is 1-63 letters, digits, '-', '_' and '.', beginning and
// ending with a letter or digit.
func labelName(s string) bool {
	if len(s) == 0 || len(s) > 63 || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 1; i < len(s)-1; i++ {
		if c := s[i]; !alnum(c) && c != '-' && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// dnsSubdomain is dot-separated labels of lower-case letters, digits and
// '-', each beginning and ending with a letter or digit.
func dnsSubdomain(s string) bool {
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || !lowerAlnum(label[0]) || !lowerAlnum(label[len(label)-1]) {
			return false
		}
		for i := 1; i < len(label)-1; i++ {
			if c := label[i]; !lowerAlnum(c) && c != '-' {
				return false
			}
		}
	}
	return true
}

func alnum(c byte) bool      { return lowerAlnum(c) || 'A' <= c && c <= 'Z' }
func lowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// elemPath is spec.<rules>[i].<list>[j], made into a field.Path only for
// an error: building every path of a valid policy was most of validating it
// at 10,000 services.
type elemPath struct {
	rules string
	i     int
	list  string
	j     int
}

func (e elemPath) path() *field.Path {
	return field.NewPath("spec").Child(e.rules).Index(e.i).Child(e.list).Index(e.j)
}

// validatePort is ValidateNetworkPolicyPort: a known protocol, a port number
// 1-65535 or an IANA port name, and endPort only after a numeric port and not
// below it.
func validatePort(p *networkingv1.NetworkPolicyPort, at elemPath) field.ErrorList {
	var errs field.ErrorList
	if p.Protocol != nil {
		if _, ok := protoRank(*p.Protocol); !ok {
			errs = append(errs, field.NotSupported(at.path().Child("protocol"), *p.Protocol,
				[]string{string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP)}))
		}
	}
	switch {
	case p.Port == nil:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(at.path().Child("endPort"), *p.EndPort, "may not be specified when `port` is not specified"))
		}
	case p.Port.Type == intstr.Int:
		for _, msg := range validation.IsValidPortNum(int(p.Port.IntVal)) {
			errs = append(errs, field.Invalid(at.path().Child("port"), p.Port.IntVal, msg))
		}
		if p.EndPort != nil {
			if *p.EndPort < p.Port.IntVal {
				errs = append(errs, field.Invalid(at.path().Child("endPort"), *p.EndPort, "must be greater than or equal to `port`"))
			}
			for _, msg := range validation.IsValidPortNum(int(*p.EndPort)) {
				errs = append(errs, field.Invalid(at.path().Child("endPort"), *p.EndPort, msg))
			}
		}
	default:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(at.path().Child("endPort"), *p.EndPort, "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range validation.IsValidPortName(p.Port.StrVal) {
			errs = append(errs, field.Invalid(at.path().Child("port"), p.Port.StrVal, msg))
		}
	}
	return errs
}

// validatePeer is ValidateNetworkPolicyPeer: a peer names at least one of
// podSelector, namespaceSelector and ipBlock, and ipBlock alone. A peer with
// every field unset ("- {}") is rejected: it is not "everything"; a rule that
// means everything has no from/to at all.
func validatePeer(p *networkingv1.NetworkPolicyPeer, at elemPath) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if p.PodSelector != nil {
		n++
		if !plainLabels(p.PodSelector) {
			errs = append(errs, validateSelector(p.PodSelector, at.path().Child("podSelector"))...)
		}
	}
	if p.NamespaceSelector != nil {
		n++
		if !plainLabels(p.NamespaceSelector) {
			errs = append(errs, validateSelector(p.NamespaceSelector, at.path().Child("namespaceSelector"))...)
		}
	}
	if p.IPBlock != nil {
		n++
		errs = append(errs, validateIPBlock(p.IPBlock, at.path().Child("ipBlock"))...)
	}
	if n == 0 {
		errs = append(errs, field.Required(at.path(), "must specify a peer"))
	} else if n > 1 && p.IPBlock != nil {
		errs = append(errs, field.Forbidden(at.path(), "may not specify both ipBlock and another peer"))
	}
	return errs
}

// validateIPBlock is ValidateIPBlock: a valid cidr, and every except a strict
// subset of it.
func validateIPBlock(b *networkingv1.IPBlock, path *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(path.Child("cidr"), "")}
	}
	errs := validation.IsValidCIDRForLegacyField(path.Child("cidr"), b.CIDR, true, nil)
	cidr, err := netip.ParsePrefix(b.CIDR)
	if len(errs) > 0 || err != nil {
		return errs
	}
	for i, e := range b.Except {
		ePath := path.Child("except").Index(i)
		eErrs := validation.IsValidCIDRForLegacyField(ePath, e, true, nil)
		errs = append(errs, eErrs...)
		ex, err := netip.ParsePrefix(e)
		if len(eErrs) > 0 || err != nil {
			continue
		}
		if !cidr.Contains(ex.Addr()) || cidr.Bits() >= ex.Bits() {
			errs = append(errs, field.Invalid(ePath, e, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}
