package schema

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
)

// What an environment's cluster enforces beyond NetworkPolicy v1 (plugin:,
// mode:, log:) and the addresses it pins for host names (hosts:), set in
// the project file under cluster: or an environment (an environment's
// setting replaces the cluster's; hosts: per name, as cidrs:). The errors
// here are the features a spec asks of a plugin that cannot express them
// (docs/reference.md, "Plugins, modes and hosts").

// hostSet is one hosts: entry resolved: its canonical blocks, sorted.
type hostSet struct {
	name   string
	blocks []netip.Prefix
	pos    Pos
	field  string
}

// enforcement sets plugin, mode and log from the cluster's settings and
// the environment's, the environment's replacing the cluster's.
func (s *envSettings) enforcement(cluster, env rawSettings) {
	pick := func(c, e *rawWord) *rawWord {
		if e != nil {
			return e
		}
		return c
	}
	s.pluginRaw = pick(cluster.Plugin, env.Plugin)
	s.modeRaw = pick(cluster.Mode, env.Mode)
	s.logRaw = pick(cluster.Log, env.Log)
	s.plugin, s.mode = PluginKubernetes, ModeEnforce
	if s.pluginRaw != nil {
		s.plugin = Plugin(s.pluginRaw.Value.S)
	}
	if s.modeRaw != nil {
		s.mode = Mode(s.modeRaw.Value.S)
	}
	s.logDenied = s.logRaw != nil && s.logRaw.Value.S == "denied"
}

// hostSets resolves hosts: entries; each entry's problems are reported once
// (the cluster's are shared by every environment).
func (r *resolver) hostSets(raw []rawHost) map[string]*hostSet {
	out := map[string]*hostSet{}
	for _, h := range raw {
		if msg := checkHost(h.Name); msg != "" {
			r.errorf(h.Pos, h.Field, "%s", msg)
		}
		if len(h.CIDRs) == 0 {
			r.errorf(h.Pos, h.Field, "expected at least one cidr (the host's addresses, 203.0.113.10/32), found none")
		}
		set := &hostSet{name: h.Name, pos: h.Pos, field: h.Field}
		for i, c := range h.CIDRs {
			p, err := parseCIDR(c.S)
			if err != nil {
				r.errorf(c.Pos, fmt.Sprintf("%s[%d]", h.Field, i), "%v", err)
				continue
			}
			if !containsPrefix(set.blocks, p) {
				set.blocks = append(set.blocks, p)
			}
		}
		sort.Slice(set.blocks, func(i, j int) bool { return prefixLess(set.blocks[i], set.blocks[j]) })
		out[h.Name] = set
	}
	return out
}

func containsPrefix(ps []netip.Prefix, p netip.Prefix) bool {
	for _, q := range ps {
		if q == p {
			return true
		}
	}
	return false
}

// pinnedHosts is an environment's hosts: as the Spec has them, sorted by
// name.
func pinnedHosts(hosts map[string]*hostSet) []PinnedHost {
	if len(hosts) == 0 {
		return nil
	}
	out := make([]PinnedHost, 0, len(hosts))
	for _, name := range sortedKeys(hosts) {
		h := hosts[name]
		out = append(out, PinnedHost{Name: name, CIDRs: prefixStrings(h.blocks), Source: h.pos})
	}
	return out
}

// envGroup collects the environments one finding holds in, so that a
// setting the cluster gives every environment is reported once, naming
// them all.
type envGroup struct {
	order []string
	envs  map[string][]string
	at    map[string]Pos
	field map[string]string
}

func newEnvGroup() *envGroup {
	return &envGroup{envs: map[string][]string{}, at: map[string]Pos{}, field: map[string]string{}}
}

func (g *envGroup) add(key string, pos Pos, field, env string) {
	if _, ok := g.envs[key]; !ok {
		g.order = append(g.order, key)
		g.at[key], g.field[key] = pos, field
	}
	if !slices.Contains(g.envs[key], env) {
		g.envs[key] = append(g.envs[key], env)
	}
}

// envWords is "environment dev" or "environments dev, staging".
func envWords(envs []string) string {
	if len(envs) == 1 {
		return "environment " + envs[0]
	}
	return "environments " + strings.Join(envs, ", ")
}

// checkEnforcement reports what an environment asks of its plugin that the
// plugin cannot do: log: denied and mode: audit on kubernetes, mode: audit
// with guardrails on calico, and host calls that neither a pin nor cilium
// resolves (the design's steps 1-3), and host calls on cilium without DNS.
// It runs after resolveEntries and resolveGuardrails.
func (r *resolver) checkEnforcement() {
	logs, audits, staged, noDNS := newEnvGroup(), newEnvGroup(), newEnvGroup(), newEnvGroup()
	firstHost := map[string]*intent{}
	for _, env := range r.envNames {
		s := r.settings[env]
		if s.logDenied && s.plugin == PluginKubernetes {
			logs.add(s.logRaw.Field, s.logRaw.Value.Pos, s.logRaw.Field, env)
		}
		if s.mode == ModeAudit {
			switch {
			case s.plugin == PluginKubernetes:
				audits.add(s.modeRaw.Field, s.modeRaw.Value.Pos, s.modeRaw.Field, env)
			case s.plugin == PluginCalico && clusterObjects(s.guardrails):
				staged.add(s.modeRaw.Field, s.modeRaw.Value.Pos, s.modeRaw.Field, env)
			}
		}
	}
	for _, key := range logs.order {
		r.errorf(logs.at[key], logs.field[key], "log: denied in %s, whose plugin is kubernetes: NetworkPolicy v1 cannot log; use plugin: calico (a Log rule before each default deny) or plugin: cilium (Hubble records policy drops)", envWords(logs.envs[key]))
	}
	for _, key := range audits.order {
		r.errorf(audits.at[key], audits.field[key], "mode: audit in %s, whose plugin is kubernetes: NetworkPolicy v1 cannot stage a policy; for a gradual rollout isolate ingress first (isolate: [ingress] in the dependency files) or use plugin: calico (staged policies)", envWords(audits.envs[key]))
	}
	for _, key := range staged.order {
		envs := staged.envs[key]
		kind := "ClusterNetworkPolicy"
		if r.settings[envs[0]].guardrails.API == APIV1alpha1 {
			kind = "AdminNetworkPolicy or BaselineAdminNetworkPolicy"
		}
		r.errorf(staged.at[key], staged.field[key], "mode: audit in %s, whose plugin is calico and which has guardrails: Calico cannot stage a %s, so the guardrails would be enforced; leave guardrails out of the environment while it audits, or use mode: enforce", envWords(envs), kind)
	}
	for _, it := range r.intents {
		if it.entry.Kind != entryHost {
			continue
		}
		envs := []string{""}
		if r.project != nil {
			envs = r.activeEnvs(it)
		}
		for _, env := range envs {
			s := r.settings[env]
			switch {
			case s.hosts[it.host] != nil:
				continue // pinned: plain ipBlock on every plugin
			case s.plugin == PluginCilium:
				if s.dns == nil {
					key := s.dnsRaw.Field
					if firstHost[key] == nil {
						firstHost[key] = it
					}
					noDNS.add(key, s.dnsRaw.Pos, s.dnsRaw.Field, env)
				}
				continue
			}
			r.hostError(it, env, s.plugin)
		}
	}
	for _, key := range noDNS.order {
		it := firstHost[key]
		r.errorf(noDNS.at[key], noDNS.field[key], "dns: false in %s, whose plugin is cilium and whose services call hosts by name (%s at %s): Cilium's FQDN policy learns a name's addresses from its DNS proxy, so the environment needs DNS; remove dns: false, or pin the hosts' addresses (hosts: {%s: [CIDR, ...]})", envWords(noDNS.envs[key]), it.host, it.entry.Host.Pos, yamlKey(it.host))
	}
}

// hostError is step 3 of a host call's resolution: the environment pins no
// addresses for it and its plugin cannot allow egress by name.
func (r *resolver) hostError(it *intent, env string, plugin Plugin) {
	e := it.entry
	why := "plugin kubernetes cannot allow egress by DNS name (NetworkPolicy v1 has only ipBlock)"
	if plugin == PluginCalico {
		why = "plugin calico cannot allow egress by DNS name (Calico's open-source API has no domain rules: destination.domains is Calico Enterprise/Cloud only)"
	}
	if env == "" {
		r.errorf(e.Host.Pos, e.Field+".host", "host %s: %s, and this run has no project file to pin its addresses in; add one with environments and cluster: {hosts: {%s: [CIDR, ...]}}, or cluster: {plugin: cilium}", it.host, why, yamlKey(it.host))
		return
	}
	r.errorf(e.Host.Pos, e.Field+".host", "host %s in environment %s: %s; pin its addresses (environments.%s.hosts: {%s: [CIDR, ...]}) or use plugin: cilium", it.host, env, why, env, yamlKey(it.host))
}

// yamlKey is a host as YAML reads it back: a wildcard quoted ("*" starts
// an alias).
func yamlKey(host string) string {
	if strings.HasPrefix(host, "*") {
		return `"` + host + `"`
	}
	return host
}

// clusterObjects reports whether guardrails emit cluster-scoped objects
// (Admin rules or a Baseline default deny).
func clusterObjects(g *Guardrails) bool {
	return g != nil && (len(g.Admin) > 0 || g.DefaultDeny.Baseline())
}

// warnUnusedHosts: a pinned host no calls entry names where the pin
// applies. Pins match a host spelled the same only, so a typo in either
// place would otherwise leave the call unresolved elsewhere and the pin
// silently unused.
func (r *resolver) warnUnusedHosts() {
	type use struct {
		set  *hostSet
		used bool
	}
	uses := map[*hostSet]*use{}
	var order []*hostSet
	called := map[string]bool{}
	sets := []map[string]*hostSet{r.clusterHosts}
	for _, env := range r.envNames {
		sets = append(sets, r.settings[env].hosts)
	}
	for _, hosts := range sets {
		for _, name := range sortedKeys(hosts) {
			h := hosts[name]
			if uses[h] == nil {
				uses[h] = &use{set: h}
				order = append(order, h)
			}
		}
	}
	for _, it := range r.intents {
		if it.entry.Kind != entryHost {
			continue
		}
		called[it.host] = true
		for _, env := range r.activeEnvs(it) {
			if h := r.settings[env].hosts[it.host]; h != nil {
				uses[h].used = true
			}
		}
	}
	sort.SliceStable(order, func(i, j int) bool { return posLess(order[i].pos, order[j].pos) })
	names := sortedKeys(called)
	for _, h := range order {
		if uses[h].used {
			continue
		}
		r.warnf(h.pos, h.field, "no calls entry names host %q where this entry applies%s, so its addresses allow nothing; remove it, or call the host ({host: %s, ports: [...]})", h.name, didYouMean(h.name, names), yamlKey(h.name))
	}
}
