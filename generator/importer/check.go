package importer

import (
	"fmt"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator/eval"
	"github.com/netdep/netdep/generator/verify"
	"github.com/netdep/netdep/generator/world"
	"github.com/netdep/netdep/schema"
)

// finish renders the files, loads them as netdep would and checks them as
// `netdep verify --manifests` does against m; every difference gets the
// reason the import has for it.
func (im *policyImporter) finish(m *verify.Manifests) (*Result, error) {
	res := &Result{Policies: len(im.c.Policies), Workloads: len(im.c.Workloads),
		Approximations: sortedKeys(im.approximations), Notes: sortedKeys(im.notes)}
	files := im.render(nil)
	spec, err := parseFiles(im.o.Out, files)
	if err != nil {
		return nil, err
	}
	rep, err := verify.CheckManifests(spec, "", m)
	if err != nil {
		return nil, fmt.Errorf("checking the import against the original policies: %w", err)
	}
	res.Check = rep
	if res.Effective, err = effectiveCheck(spec, "", m); err != nil {
		return nil, fmt.Errorf("checking the import with the ClusterNetworkPolicies: %w", err)
	}
	for _, d := range rep.Missing {
		res.Differences = append(res.Differences, Difference{Kind: "missing", Difference: d, Why: im.why(d, true)})
	}
	for _, d := range rep.Excess {
		res.Differences = append(res.Differences, Difference{Kind: "excess", Difference: d, Why: im.why(d, false)})
	}
	// Write each namespace's differences and findings into its file's
	// header.
	perNS := map[string]*Result{}
	at := func(n string) *Result {
		if perNS[n] == nil {
			perNS[n] = &Result{}
		}
		return perNS[n]
	}
	for _, d := range res.Differences {
		for i, n := range []string{nsOf(d.Source), nsOf(d.Destination)} {
			if im.docs[n] != nil && (i == 0 || n != nsOf(d.Source)) {
				at(n).Differences = append(at(n).Differences, d)
			}
		}
	}
	for _, list := range []struct {
		all []string
		add func(r *Result, s string)
	}{
		{res.Approximations, func(r *Result, s string) { r.Approximations = append(r.Approximations, s) }},
		{res.Notes, func(r *Result, s string) { r.Notes = append(r.Notes, s) }},
	} {
		for _, s := range list.all {
			if f := strings.Fields(s); len(f) > 1 && f[0] == "policy" {
				if n := nsOf(f[1]); im.docs[n] != nil {
					list.add(at(n), s)
					continue
				}
			}
			for n := range im.docs {
				list.add(at(n), s)
			}
		}
	}
	res.Files = im.render(perNS)
	return res, nil
}

// nsOf is the namespace of a check endpoint name ("ns/svc"), "" for
// addresses.
func nsOf(name string) string {
	if strings.HasPrefix(name, "addresses ") {
		return ""
	}
	ns, _, _ := strings.Cut(name, "/")
	return ns
}

func (im *policyImporter) render(perNS map[string]*Result) []File {
	var files []File
	for _, n := range sortedKeys(im.docs) {
		d := im.docs[n]
		d.header = []string{
			fmt.Sprintf("Imported by `netdep import policies` from %s.", strings.Join(im.o.Manifests, ", ")),
			"Each entry names the policy rules that allowed it; review, then own this file.",
		}
		if r := perNS[n]; r != nil {
			d.header = append(d.header, "", "Not imported exactly (as netdep verify --manifests finds it):")
			for _, l := range strings.Split(strings.TrimSuffix(r.Text(), "\n"), "\n") {
				d.header = append(d.header, "  "+l)
			}
		}
		files = append(files, File{Name: n + ".yaml", Data: d.render()})
	}
	return files
}

// parseFiles loads files as netdep would read them from dir.
func parseFiles(dir string, files []File) (*schema.Spec, error) {
	var sf []schema.File
	for _, f := range files {
		sf = append(sf, schema.File{Path: path.Join(dir, f.Name), Data: f.Data, Explicit: true})
	}
	spec, probs := schema.Parse(sf)
	if errs := probs.Errors(); len(errs) > 0 {
		var text strings.Builder
		for _, f := range files {
			text.WriteString("--- " + f.Name + "\n" + string(f.Data))
		}
		return nil, fmt.Errorf("the imported files do not load (a netdep bug; please report it):\n%s\n%s", errs.Error(), text.String())
	}
	return spec, nil
}

// unexpected is the reason of a difference the import did not mean to
// make; the corpus test fails on it.
const unexpected = "not expected: please report this import as a netdep bug"

// why says why the imported files allow src -> dst differently from the
// original policies: the import's own reason where it decided so, else
// what the original policies do there, evaluated over the import's
// universe (whose pods verify's world names alike).
func (im *policyImporter) why(d verify.Difference, missing bool) string {
	key := func(s string) string {
		if strings.HasPrefix(s, "addresses ") {
			return addrKey
		}
		return s
	}
	if r := im.reasons[key(d.Source)+"|"+key(d.Destination)]; r != "" {
		return r
	}
	if why := im.clusterWhy(d); why != "" && !missing {
		return why
	}
	if d.Direction != verify.Connection && !missing {
		return fmt.Sprintf("the %s side of policy %s on its own allowed more than the other side of these connections let through; the import declares only the connections that were allowed, so its %s side is narrower than the original's", d.Direction, d.Policy, d.Direction)
	}
	src, okSrc := im.endpoint(d.Source)
	dst, okDst := im.endpoint(d.Destination)
	if missing {
		if dst == eval.PodEndpoint(im.dnsPod) && okDst && im.dnsPorts().Contains(firstPort(d.Ports).Protocol, firstPort(d.Ports).From) {
			return "netdep allows DNS from every pod of an egress-isolated namespace (allow-dns); the original policies did not"
		}
		return unexpected
	}
	if !okSrc || !okDst {
		return unexpected
	}
	q := firstPort(d.Ports)
	v := im.ev.Explain(eval.Query{Src: src, Dst: dst, Protocol: q.Protocol, Port: q.From})
	if why := im.unnamedWhy(d, src, dst, v); why != "" {
		return why
	}
	if why := outsideWhy(d, v); why != "" {
		return why
	}
	return im.partWhy(d, src, dst, v)
}

// unnamedWhy explains an excess at pods no imported workload describes,
// in a namespace netdep isolates: netdep has no service to give them
// anything.
func (im *policyImporter) unnamedWhy(d verify.Difference, src, dst eval.Endpoint, v eval.Verdict) string {
	srcNS, dstNS := nsOf(d.Source), nsOf(d.Destination)
	switch {
	case !dst.External && im.byPod[dst.Index] == nil && im.isIn(dstNS):
		if len(v.Ingress.Isolating) == 0 {
			return fmt.Sprintf("no policy selected %s for ingress, but netdep isolates all of %s and admits nothing to pods no imported workload describes", d.Destination, dstNS)
		}
		return fmt.Sprintf("%s admitted pods of %s that no imported workload describes; netdep admits nothing to pods it has no service for", joinAllowing(v.Ingress.Allowing, "ingress"), dstNS)
	case !src.External && im.byPod[src.Index] == nil && im.isEg(srcNS):
		if len(v.Egress.Isolating) == 0 {
			return fmt.Sprintf("no policy selected %s for egress, but netdep isolates all of %s and lets pods no imported workload describes reach only DNS", d.Source, srcNS)
		}
		return fmt.Sprintf("%s let pods of %s that no imported workload describes out; netdep lets pods it has no service for reach only DNS", joinAllowing(v.Egress.Allowing, "egress"), srcNS)
	}
	return ""
}

// outsideWhy explains an excess at a namespace none of the inputs names.
func outsideWhy(d verify.Difference, v eval.Verdict) string {
	srcNS, dstNS := nsOf(d.Source), nsOf(d.Destination)
	switch {
	case dstNS == world.OutsideNamespace && len(v.Egress.Isolating) == 0:
		return fmt.Sprintf("no policy selected %s for egress, so it reached every namespace; netdep isolates all of %s and names only the namespaces of the inputs (%s stands for the others)", d.Source, srcNS, world.OutsideNamespace)
	case srcNS == world.OutsideNamespace && len(v.Ingress.Isolating) == 0:
		return fmt.Sprintf("no policy selected %s for ingress, so every namespace reached it; netdep isolates all of %s and names only the namespaces of the inputs (%s stands for the others)", d.Destination, dstNS, world.OutsideNamespace)
	case dstNS == world.OutsideNamespace || srcNS == world.OutsideNamespace:
		rules := v.Ingress.Allowing
		dir := "ingress"
		if dstNS == world.OutsideNamespace {
			rules, dir = v.Egress.Allowing, "egress"
		}
		return fmt.Sprintf("%s admitted namespaces the inputs do not have (%s stands for them); netdep names namespaces, so only the ones in the inputs are imported", joinAllowing(rules, dir), world.OutsideNamespace)
	}
	return ""
}

// partWhy explains an excess to or from some, not all, of the pods of a
// namespace that no workload describes.
func (im *policyImporter) partWhy(d verify.Difference, src, dst eval.Endpoint, v eval.Verdict) string {
	srcNS, dstNS := nsOf(d.Source), nsOf(d.Destination)
	switch {
	case !src.External && im.byPod[src.Index] == nil && im.isIn(dstNS) && v.Ingress.Allowed:
		return fmt.Sprintf("%s admitted pods of %s that no imported workload describes, but not every pod of %s: netdep can name such pods only as the whole namespace, so they are not imported", joinAllowing(v.Ingress.Allowing, "ingress"), srcNS, srcNS)
	case !dst.External && im.byPod[dst.Index] == nil && im.isEg(srcNS) && v.Egress.Allowed:
		return fmt.Sprintf("%s let %s reach pods of %s that no imported workload describes, but not every pod of %s: netdep can name such pods only as the whole namespace, so they are not imported", joinAllowing(v.Egress.Allowing, "egress"), d.Source, dstNS, dstNS)
	}
	return unexpected
}

func joinAllowing(refs []eval.RuleRef, dir string) string {
	var s []string
	for _, r := range refs {
		s = append(s, fmt.Sprintf("policy %s %s[%d]", r.PolicyRef, dir, r.Rule))
	}
	if len(s) == 0 {
		return "a rule"
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// endpoint finds the universe endpoint verify's world calls name: a pod
// by its name, an address class by its first prefix.
func (im *policyImporter) endpoint(name string) (eval.Endpoint, bool) {
	if rest, ok := strings.CutPrefix(name, "addresses "); ok {
		first, _, _ := strings.Cut(rest, " ")
		p, err := netip.ParsePrefix(first)
		if err != nil {
			return eval.Endpoint{}, false
		}
		for x, ext := range im.ext {
			for _, q := range ext.Prefixes {
				if q.Contains(p.Addr()) {
					return eval.ExternalEndpoint(x), true
				}
			}
		}
		return eval.Endpoint{}, false
	}
	for i, n := range im.podName {
		if n == name {
			return eval.PodEndpoint(i), true
		}
	}
	return eval.Endpoint{}, false
}

// firstPort is the first port of a difference's ports ("all",
// "53/TCP,53/UDP", "1-52/TCP,...").
func firstPort(ports string) eval.PortRange {
	first, _, _ := strings.Cut(ports, ",")
	num, proto, ok := strings.Cut(first, "/")
	if !ok {
		return eval.PortRange{Protocol: corev1.ProtocolTCP, From: 1, To: 1}
	}
	from, _, _ := strings.Cut(num, "-")
	n, _ := strconv.Atoi(from)
	return eval.PortRange{Protocol: corev1.Protocol(proto), From: int32(n), To: int32(n)}
}
