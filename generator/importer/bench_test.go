package importer

import (
	"bufio"
	"bytes"
	"os"
	"testing"
)

// BenchmarkReadHubble reads a flow log of 20,000 flows (the lines of the
// hubble test case, repeated): MB/s is the read rate of import flows and
// drift, allocations show that repeated connections are held once.
func BenchmarkReadHubble(b *testing.B) {
	data, err := os.ReadFile("../../tests/testdata/import/hubble/flows.json")
	if err != nil {
		b.Fatal(err)
	}
	var log bytes.Buffer
	for log.Len() < 20_000*len(data)/bytes.Count(data, []byte("\n")) {
		log.Write(data)
	}
	b.SetBytes(int64(log.Len()))
	b.ReportAllocs()
	for b.Loop() {
		o := &Observed{Skipped: map[string]int{}}
		if probs := o.readHubble("flows.json", bufio.NewReader(bytes.NewReader(log.Bytes()))); len(probs) > 0 {
			b.Fatal(probs)
		}
		if len(o.Observations) > 20 {
			b.Fatalf("%d observations held for 9 connections", len(o.Observations))
		}
	}
}
