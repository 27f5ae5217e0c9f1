package diff

import (
	"fmt"
	"maps"
	"slices"

	"github.com/netdep/netdep/schema"
)

// renameWarnings finds the services that look renamed (one gone and one
// new in the same namespace, declared in the same file, on the same ports)
// where both take the default selector, which follows the name
// ({app: <name>}): the head's policies select other pods than the base's,
// and the pods still labelled with the old name lose their policies.
func renameWarnings(base, head *schema.Spec) []string {
	if base == nil || head == nil {
		return nil
	}
	var out []string
	for _, bns := range base.Namespaces {
		hns := head.Namespace(bns.Name)
		if hns == nil {
			continue
		}
		var gone, added []*schema.Service
		for _, s := range bns.Services {
			if findService(hns, s.Name) == nil {
				gone = append(gone, s)
			}
		}
		for _, s := range hns.Services {
			if findService(bns, s.Name) == nil {
				added = append(added, s)
			}
		}
		used := map[*schema.Service]bool{}
		for _, g := range gone {
			for _, a := range added {
				if used[a] || g.Source.File != a.Source.File || !slices.Equal(portKeys(g), portKeys(a)) {
					continue
				}
				if !defaultSelector(g) || !defaultSelector(a) {
					continue
				}
				used[a] = true
				out = append(out, fmt.Sprintf("%s: service %s renamed to %s? its selector follows the name (app=%s before, app=%s now): the pods selected before and after differ; keep `selector: {app: %s}` if the pods were not relabelled",
					a.Source, g.ID(), a.Name, g.Name, a.Name, g.Name))
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func findService(ns *schema.Namespace, name string) *schema.Service {
	for _, s := range ns.Services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func defaultSelector(s *schema.Service) bool {
	return maps.Equal(s.Selector, map[string]string{"app": s.Name})
}

func portKeys(s *schema.Service) []string {
	out := make([]string, len(s.Ports))
	for i, p := range s.Ports {
		out[i] = p.String()
	}
	slices.Sort(out)
	return out
}
