package importer

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/schema"
)

// hubbleFlow is the part of Hubble's flow JSON (flow.proto, as `hubble
// observe -o json` prints it) that the import reads.
type hubbleFlow struct {
	Verdict string `json:"verdict"`
	IP      struct {
		Source      string `json:"source"`
		Destination string `json:"destination"`
	} `json:"IP"`
	L4 map[string]struct {
		DestinationPort int64 `json:"destination_port"`
	} `json:"l4"`
	Source           hubbleEndpoint  `json:"source"`
	Destination      hubbleEndpoint  `json:"destination"`
	DestinationNames []string        `json:"destination_names"`
	IsReply          *bool           `json:"is_reply"`
	Reply            bool            `json:"reply"` // before is_reply (Hubble < 0.8)
	TrafficDirection string          `json:"traffic_direction"`
	L7               json.RawMessage `json:"l7"`
}

type hubbleEndpoint struct {
	Identity  uint32   `json:"identity"`
	Namespace string   `json:"namespace"`
	Labels    []string `json:"labels"`
	PodName   string   `json:"pod_name"`
	Workloads []struct {
		Name string `json:"name"`
		Kind string `json:"kind"`
	} `json:"workloads"`
}

// hubbleLine is one line of a flow log: a flow wrapped as `hubble observe
// -o json` prints it, or a bare flow.
type hubbleLine struct {
	Flow *hubbleFlow `json:"flow"`
	// Fields of a bare flow, to tell it from other events (lost events,
	// node status) that carry none.
	Verdict *string         `json:"verdict"`
	IP      json.RawMessage `json:"IP"`
}

func (o *Observed) readHubble(name string, br *bufio.Reader) schema.Problems {
	probs := &problems{file: name}
	for line := 1; ; line++ {
		text, tooLong, err := readLine(br, MaxFlowLine)
		if tooLong {
			probs.add(line, 1, "", "line is longer than the %d MiB limit for one flow (hubble observe -o json prints a flow in a few kilobytes)", MaxFlowLine>>20)
		} else if t := bytes.TrimSpace(text); len(t) > 0 {
			o.hubbleLine(name, line, t, probs)
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				probs.add(line, 1, "", "reading: %v", err)
			}
			return probs.done()
		}
	}
}

// readLine reads one line without its end, at most limit bytes: a longer
// one is read to its end and dropped (tooLong), so memory stays bounded.
func readLine(br *bufio.Reader, limit int) (line []byte, tooLong bool, err error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if !tooLong {
			if len(buf)+len(chunk) > limit+1 {
				tooLong, buf = true, nil
			} else {
				buf = append(buf, chunk...)
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		return bytes.TrimSuffix(buf, []byte("\n")), tooLong, err
	}
}

func (o *Observed) hubbleLine(name string, line int, text []byte, probs *problems) {
	col := func(off int64) int { return utf8.RuneCount(text[:min(int(off), len(text))]) + 1 }
	var hl hubbleLine
	if err := json.Unmarshal(text, &hl); err != nil {
		o.jsonProblem(line, text, err, probs)
		return
	}
	f, prefix := hl.Flow, "flow."
	if f == nil {
		if hl.Verdict == nil && len(hl.IP) == 0 {
			o.Skipped["events that are not flows"]++
			return
		}
		f, prefix = &hubbleFlow{}, ""
		if err := json.Unmarshal(text, f); err != nil {
			o.jsonProblem(line, text, err, probs)
			return
		}
	}
	bad := func(path, format string, args ...any) {
		probs.add(line, col(jsonOffset(text, strings.Split(prefix+path, ".")...)), prefix+path, format, args...)
	}
	before := len(probs.list) + probs.more
	src := hubbleEnd(f.Source, f.IP.Source, "source", bad)
	dst := hubbleEnd(f.Destination, f.IP.Destination, "destination", bad)
	for p, l4 := range f.L4 {
		if port := l4.DestinationPort; port < 0 || port > 65535 {
			bad("l4."+p+".destination_port", "port %d out of range: expected 1 to 65535", port)
		}
	}
	if len(probs.list)+probs.more > before {
		return // a flow with a bad name, label or port imports nothing
	}
	o.addHubble(f, src, dst, fmt.Sprintf("%s:%d", name, line))
}

// jsonProblem reports a line that does not decode as a flow: where, and
// what was expected, in JSON's terms rather than Go's.
func (o *Observed) jsonProblem(line int, text []byte, err error, probs *problems) {
	col := func(off int64) int { return utf8.RuneCount(text[:min(int(off), len(text))]) + 1 }
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		probs.add(line, col(syn.Offset), "", "not a Hubble flow: invalid JSON: %s", strings.TrimPrefix(syn.Error(), "json: "))
	case errors.As(err, &typ):
		path, at := jsonPathAt(text, typ.Offset)
		what := ""
		if path == "" {
			what = "not a Hubble flow: "
		}
		probs.add(line, col(at), path, "%sexpected %s, found %s", what, jsonKind(typ.Type), article(typ.Value))
	default:
		probs.add(line, 1, "", "not a Hubble flow: %v", err)
	}
}

// jsonKind names a Go type as JSON calls its values.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	default:
		return "an object"
	}
}

func article(v string) string {
	switch v {
	case "array":
		return "a list"
	case "object":
		return "an object"
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	}
	if strings.HasPrefix(v, "number") {
		return "the number" + strings.TrimPrefix(v, "number")
	}
	return v
}

// jsonOffset is the byte offset of the value at path in one JSON document
// (object keys, or list indexes as numbers), for messages; the offset of
// the deepest part of path that exists, 0 when none does.
func jsonOffset(data []byte, path ...string) int64 {
	dec := json.NewDecoder(bytes.NewReader(data))
	best := int64(0)
	start := func() int64 {
		off := dec.InputOffset()
		for off < int64(len(data)) && strings.IndexByte(" \t\r\n:,", data[off]) >= 0 {
			off++
		}
		return off
	}
	var walk func(path []string) bool
	walk = func(path []string) bool {
		if len(path) == 0 {
			return true
		}
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		d, ok := tok.(json.Delim)
		if !ok || d != '{' && d != '[' {
			return false
		}
		for i := 0; dec.More(); i++ {
			key := strconv.Itoa(i)
			if d == '{' {
				k, err := dec.Token()
				if err != nil {
					return false
				}
				key, _ = k.(string)
			}
			if key == path[0] {
				best = start()
				return walk(path[1:])
			}
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return false
			}
		}
		return false
	}
	walk(path)
	return best
}

// jsonPathAt is the path (keys and list indexes joined by dots) and the
// offset of the value of data that ends at end, as a decode error reports
// it: Go's own error names struct fields and leaves map keys out.
func jsonPathAt(data []byte, end int64) (string, int64) {
	type frame struct {
		obj       bool
		key       string
		idx       int
		expectKey bool
		start     int64
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []*frame
	path := func() string {
		var parts []string
		for _, f := range stack {
			if f.obj {
				parts = append(parts, f.key)
			} else {
				parts = append(parts, strconv.Itoa(f.idx))
			}
		}
		return strings.Join(parts, ".")
	}
	advance := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.obj {
			top.expectKey = true
		} else {
			top.idx++
		}
	}
	for {
		start := dec.InputOffset()
		for start < int64(len(data)) && strings.IndexByte(" \t\r\n:,", data[start]) >= 0 {
			start++
		}
		tok, err := dec.Token()
		if err != nil {
			return path(), start
		}
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.obj && top.expectKey {
				if k, ok := tok.(string); ok {
					top.key, top.expectKey = k, false
					continue
				}
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			if dec.InputOffset() >= end {
				return path(), start // the error is at the opening bracket
			}
			stack = append(stack, &frame{obj: tok == json.Delim('{'), expectKey: true, start: start})
			continue
		case json.Delim('}'), json.Delim(']'):
			f := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if dec.InputOffset() >= end {
				return path(), f.start
			}
			advance()
			continue
		}
		if dec.InputOffset() >= end {
			return path(), start
		}
		advance()
	}
}

func (o *Observed) addHubble(f *hubbleFlow, src, dst Endpoint, where string) {
	switch {
	case f.IsReply != nil && *f.IsReply || f.Reply:
		o.Skipped["replies"]++
		return
	case f.Verdict != "" && f.Verdict != "FORWARDED" && f.Verdict != "AUDIT" && f.Verdict != "REDIRECTED" && f.Verdict != "DROPPED":
		o.Skipped[strings.ToLower(f.Verdict)+" flows"]++
		return
	case hasReserved(f.Source.Labels, "health"):
		o.Skipped["Cilium health checks (reserved:health)"]++
		return
	case hasReserved(f.Source.Labels, "host"):
		o.Skipped["from a node, not a pod (reserved:host: the node itself or a host-network pod)"]++
		return
	case hasReserved(f.Source.Labels, "remote-node"):
		o.Skipped["from another node, not a pod (reserved:remote-node)"]++
		return
	}
	var proto corev1.Protocol
	var port int32
	for p, l4 := range f.L4 {
		switch strings.ToUpper(p) {
		case "TCP", "UDP", "SCTP":
			proto, port = corev1.Protocol(strings.ToUpper(p)), int32(l4.DestinationPort)
		}
	}
	if proto == "" || port == 0 {
		o.Skipped["without TCP, UDP or SCTP port"]++
		return
	}
	dst.DNSNames = f.DestinationNames
	if !src.isPod() && !src.IP.IsValid() || !dst.isPod() && !dst.IP.IsValid() {
		o.Skipped["without a workload or address"]++
		return
	}
	if port == 53 && (dst.Labels["k8s-app"] == "kube-dns" || isDNS(f.L7)) {
		o.Skipped["DNS lookups (allow-dns covers them)"]++
		return
	}
	if src.isPod() && dst.isPod() && f.TrafficDirection == "INGRESS" {
		// A connection between two pods is observed at both ends; count it
		// once, at the sender.
		o.Skipped["seen at both ends (counted once)"]++
		return
	}
	o.observe(Observation{Src: src, Dst: dst, Protocol: proto, Port: port, Count: 1, Where: where, Dropped: f.Verdict == "DROPPED"})
}

func isDNS(l7 json.RawMessage) bool {
	var v struct {
		DNS json.RawMessage `json:"dns"`
	}
	return len(l7) > 0 && json.Unmarshal(l7, &v) == nil && len(v.DNS) > 0
}

func hasReserved(lbls []string, names ...string) bool {
	for _, l := range lbls {
		for _, n := range names {
			if l == "reserved:"+n {
				return true
			}
		}
	}
	return false
}

// hubbleEnd maps a Hubble endpoint to a workload: Kubernetes labels (the
// "k8s:" source, without Cilium's own), named after the workload that owns
// the pod (two Deployments may share an app label), else the app labels or
// the pod name. Names, labels and addresses are checked as the files will
// need them; bad reports each problem at its field.
func hubbleEnd(e hubbleEndpoint, ip, side string, bad func(path, format string, args ...any)) Endpoint {
	if e.Namespace == "" {
		if ip == "" {
			return Endpoint{}
		}
		addr, err := netip.ParseAddr(ip)
		if err != nil {
			bad("IP."+side, "invalid address %q: expected an IPv4 or IPv6 address", ip)
		}
		// A dual-stack socket reports an IPv4 peer as ::ffff:a.b.c.d; the
		// API server refuses that form in an ipBlock, so keep the IPv4 one.
		return Endpoint{IP: addr.Unmap()}
	}
	if msg := schema.CheckName("namespace", e.Namespace); msg != "" {
		bad(side+".namespace", "%s", msg)
	}
	out := Endpoint{Namespace: e.Namespace, Labels: map[string]string{}}
	for i, l := range e.Labels {
		k, v, ok := strings.Cut(strings.TrimPrefix(l, "k8s:"), "=")
		if !ok || !strings.HasPrefix(l, "k8s:") || strings.HasPrefix(k, "io.kubernetes.") || strings.HasPrefix(k, "io.cilium.") || volatileLabels[k] {
			continue
		}
		if msgs := schema.CheckLabels(map[string]string{k: v}); len(msgs) > 0 {
			bad(fmt.Sprintf("%s.labels.%d", side, i), "%s", strings.Join(msgs, "; "))
			continue
		}
		out.Labels[k] = v
	}
	switch {
	case len(e.Workloads) > 0 && e.Workloads[0].Name != "":
		out.Name, out.Kind = e.Workloads[0].Name, e.Workloads[0].Kind
	case out.Labels["app"] != "":
		out.Name = out.Labels["app"]
	case out.Labels["app.kubernetes.io/name"] != "":
		out.Name = out.Labels["app.kubernetes.io/name"]
	default:
		out.Name = e.PodName
		if len(out.Labels) == 0 {
			// The selector will be guessed from the name.
			if msgs := schema.CheckLabels(map[string]string{"app": e.PodName}); len(msgs) > 0 {
				bad(side+".pod_name", "no labels, and the pod name cannot be one: %s", strings.Join(msgs, "; "))
			}
		}
	}
	return out
}
