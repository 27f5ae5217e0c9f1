package importer

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net/netip"
	"os"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/netdep/netdep/generator"
	"github.com/netdep/netdep/schema"
)

// Endpoint is one end of an observed connection: a workload (Namespace and
// Name set) or an address outside the cluster.
type Endpoint struct {
	Namespace string
	Name      string
	// Kind is the workload's kind when the source says ("Deployment"), or
	// "Service" for a Kubernetes Service an Otterize intent targets.
	Kind string
	// Labels are the pod's labels when the source knows them.
	Labels map[string]string
	IP     netip.Addr
	// DNSNames are names the address was resolved from (Hubble's
	// destination_names).
	DNSNames []string
}

func (e Endpoint) isPod() bool { return e.Namespace != "" }

// Observation is one or more connections seen from Src to Dst. Port 0 means
// the port is unknown (Otterize intents name no ports).
type Observation struct {
	Src, Dst Endpoint
	Protocol corev1.Protocol
	Port     int32
	Count    int
	// Where is the first place it was seen: file:line.
	Where string
	// Dropped connections were denied where they were seen: imports leave
	// them out, drift reports them when nothing declares them.
	Dropped bool
}

// Observed is what flow files say, with what was set aside and why.
type Observed struct {
	Observations []Observation
	// Skipped counts flows left out, by reason ("replies", ...).
	Skipped map[string]int
	// Notes say what an input said that is imported differently or not
	// at all, each with its position.
	Notes []string
	// seen indexes Observations by connection, so that a log of millions
	// of flows between a few hundred workloads holds a few hundred.
	seen map[string]int
}

// observe adds ob, or counts it on the observation of the same
// connection seen before (which keeps its first position).
func (o *Observed) observe(ob Observation) {
	k := fmt.Sprintf("%s|%s|%s|%s|%s|%d|%t", endpointKey(ob.Src), endpointKey(ob.Dst), ob.Src.IP, ob.Dst.IP, ob.Protocol, ob.Port, ob.Dropped)
	if i, ok := o.seen[k]; ok {
		prev := &o.Observations[i]
		prev.Count += ob.Count
		for _, n := range ob.Dst.DNSNames {
			if !containsName(prev.Dst.DNSNames, n) {
				prev.Dst.DNSNames = append(prev.Dst.DNSNames, n)
			}
		}
		return
	}
	if o.seen == nil {
		o.seen = map[string]int{}
	}
	o.seen[k] = len(o.Observations)
	o.Observations = append(o.Observations, ob)
}

func endpointKey(e Endpoint) string {
	return e.Namespace + "/" + e.Name + "/" + e.Kind + "/" + labelKey(e.Labels)
}

func containsName(names []string, n string) bool {
	for _, x := range names {
		if x == n {
			return true
		}
	}
	return false
}

// MaxFlowLine bounds one line of a Hubble flow log: `hubble observe -o
// json` prints a flow in a few kilobytes, so a longer line is not a flow,
// and memory stays bounded however large the file is.
const MaxFlowLine = 16 << 20

// maxProblems bounds the problems reported for one file: a file that is
// not flows at all would otherwise report every line.
const maxProblems = 50

// ReadObservedFiles reads observed traffic from files: Hubble flow logs
// (the JSON lines of `hubble observe -o json`, read line by line, so a log
// of any size is read in bounded memory) and Otterize ClientIntents (YAML,
// at most schema.MaxFileSize), told apart by their first character. Every
// problem of every file is reported at once, each at its file, line and
// column, as a *generator.ProblemsError.
func ReadObservedFiles(paths []string) (*Observed, error) {
	all := &Observed{Skipped: map[string]int{}}
	var probs schema.Problems
	for _, p := range paths {
		o, ps, err := readObservedFile(p)
		if err != nil {
			return nil, err
		}
		probs = append(probs, ps...)
		if o != nil {
			all.Merge(o)
		}
	}
	if len(probs) > 0 {
		probs.Sort()
		return nil, &generator.ProblemsError{Problems: probs}
	}
	return all, nil
}

func readObservedFile(path string) (*Observed, schema.Problems, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	o, probs := ReadObserved(path, f)
	return o, probs, nil
}

// ReadObserved reads one flow file from r; name is how messages call it.
func ReadObserved(name string, r io.Reader) (*Observed, schema.Problems) {
	o := &Observed{Skipped: map[string]int{}}
	br := bufio.NewReaderSize(r, 64<<10)
	if first, _ := firstByte(br); first == '{' {
		return o, o.readHubble(name, br)
	}
	data, err := io.ReadAll(io.LimitReader(br, schema.MaxFileSize+1))
	if err != nil {
		return o, schema.Problems{{Pos: schema.Pos{File: name}, Message: err.Error()}}
	}
	if len(data) > schema.MaxFileSize {
		return o, schema.Problems{{Pos: schema.Pos{File: name, Line: 1, Column: 1},
			Message: fmt.Sprintf("file is larger than the %d MiB limit for ClientIntents files, and is not Hubble flows (JSON lines start with {)", schema.MaxFileSize>>20)}}
	}
	return o, o.readIntents(name, data)
}

// firstByte is the first byte of r that is not white space or a UTF-8
// byte order mark, without consuming anything.
func firstByte(br *bufio.Reader) (byte, error) {
	for n := 64; ; n *= 2 {
		b, err := br.Peek(n)
		t := bytes.TrimLeft(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")), " \t\r\n")
		if len(t) > 0 {
			return t[0], nil
		}
		if err != nil || n >= 64<<10 {
			return 0, err
		}
	}
}

// Merge adds b's observations to o.
func (o *Observed) Merge(b *Observed) {
	o.Observations = append(o.Observations, b.Observations...)
	for k, v := range b.Skipped {
		o.Skipped[k] += v
	}
	o.Notes = append(o.Notes, b.Notes...)
}

// problems collects one file's problems up to maxProblems.
type problems struct {
	file string
	list schema.Problems
	more int
}

func (p *problems) add(line, col int, field, format string, args ...any) {
	if len(p.list) >= maxProblems {
		p.more++
		return
	}
	p.list = append(p.list, schema.Problem{Pos: schema.Pos{File: p.file, Line: line, Column: col}, Field: field, Message: fmt.Sprintf(format, args...)})
}

func (p *problems) done() schema.Problems {
	if p.more > 0 {
		p.list = append(p.list, schema.Problem{Pos: schema.Pos{File: p.file}, Message: fmt.Sprintf("%d more problems not shown", p.more)})
	}
	sort.SliceStable(p.list, func(i, j int) bool { return p.list[i].Pos.Line < p.list[j].Pos.Line })
	return p.list
}
