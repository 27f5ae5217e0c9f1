package posture

import "sort"

// Compare puts base's figures beside head's, environment by environment
// (by name; an environment only head has is compared with nothing), and
// records what changes: the figures, the services newly exposed or no
// longer exposed, and the services whose blast radius changes. baseName
// names the base revision in the report.
func Compare(base, head *Report, baseName string) *Report {
	head.Base = baseName
	byName := map[string]*Environment{}
	for _, e := range base.Environments {
		byName[e.Name] = e
	}
	for _, h := range head.Environments {
		b := byName[h.Name]
		if b == nil {
			b = &Environment{}
		}
		bs := b.Summary
		h.Base = &bs
		hs := h.Summary
		c := &Change{
			Services:             hs.Services - bs.Services,
			IngressIsolated:      hs.IngressIsolated - bs.IngressIsolated,
			EgressIsolated:       hs.EgressIsolated - bs.EgressIsolated,
			UnisolatedNamespaces: hs.UnisolatedNamespaces - bs.UnisolatedNamespaces,
			Exposed:              hs.Exposed - bs.Exposed,
			ExposedOutside:       hs.ExposedOutside - bs.ExposedOutside,
			EgressOutside:        hs.EgressOutside - bs.EgressOutside,
			MaxBlastRadius:       hs.MaxBlastRadius - bs.MaxBlastRadius,
			Connections:          hs.Connections - bs.Connections,
			CrossNamespace:       hs.CrossNamespace - bs.CrossNamespace,
			SensitiveFlows:       hs.SensitiveFlows - bs.SensitiveFlows,
			NewlyExposed:         []string{},
			NoLongerExposed:      []string{},
			BlastRadius:          []BlastChange{},
		}
		exposed := func(e *Environment) map[string]bool {
			m := map[string]bool{}
			for _, x := range e.Exposure {
				m[x.Service] = true
			}
			return m
		}
		be, he := exposed(b), exposed(h)
		for s := range he {
			if !be[s] {
				c.NewlyExposed = append(c.NewlyExposed, s)
			}
		}
		for s := range be {
			if !he[s] {
				c.NoLongerExposed = append(c.NoLongerExposed, s)
			}
		}
		sort.Strings(c.NewlyExposed)
		sort.Strings(c.NoLongerExposed)
		blast := map[string]*BlastChange{}
		var names []string
		for _, x := range b.BlastRadius {
			blast[x.Service] = &BlastChange{Service: x.Service, Base: x.Transitive}
			names = append(names, x.Service)
		}
		for _, x := range h.BlastRadius {
			if blast[x.Service] == nil {
				blast[x.Service] = &BlastChange{Service: x.Service}
				names = append(names, x.Service)
			}
			blast[x.Service].Head = x.Transitive
		}
		for _, n := range names {
			if x := blast[n]; x.Base != x.Head {
				c.BlastRadius = append(c.BlastRadius, *x)
			}
		}
		sort.Slice(c.BlastRadius, func(i, j int) bool {
			a, b := c.BlastRadius[i], c.BlastRadius[j]
			da, db := abs(a.Head-a.Base), abs(b.Head-b.Base)
			if da != db {
				return da > db
			}
			return a.Service < b.Service
		})
		h.Change = c
	}
	return head
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}
