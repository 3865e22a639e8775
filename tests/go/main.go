// SPDX-License-Identifier: Apache-2.0
//
// kafkacompat: the Go Kafka clients (franz-go's kgo and kadm, IBM/sarama)
// against sluice-store, for tests/integration/test_kafka_go.py.
//
//	kafkacompat franz|sarama -brokers 127.0.0.1:PORT -n N -out consumed.txt
//
// Each run creates its own topic, produces N numbered events (seq=N, as
// check_seq.py reads them) split over the five codecs with the idempotent
// producer, consumes them with a group (member 1 stops half way and commits,
// member 2 resumes from the commit) and exercises the admin API.  Every check
// prints one JSON line {"check", "result", "detail"} on stdout; result is
// "pass", "fail" or "skip: <API> not advertised".  A skip is decided only
// from the store's ApiVersions answer, so a check becomes strict by itself as
// soon as the store advertises the API.  The consumed values go to -out, one
// per line, for check_seq.py.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var codecs = []string{"none", "gzip", "snappy", "lz4", "zstd"}

type report struct {
	out   *json.Encoder
	fails int
	apis  map[int16]int16 // advertised API key -> max version
}

type line struct {
	Check  string `json:"check"`
	Result string `json:"result"`
	Detail string `json:"detail,omitempty"`
}

// rec records a check: pass when err is nil, fail with err's text otherwise.
func (r *report) rec(check string, err error) bool {
	l := line{Check: check, Result: "pass"}
	if err != nil {
		l.Result, l.Detail = "fail", err.Error()
		r.fails++
	}
	_ = r.out.Encode(l)
	return err == nil
}

// need reports whether the store advertises API key at version >= minV; when
// not, the check is recorded as skipped.  This is the only source of skips.
func (r *report) need(check string, key, minV int16) bool {
	max, ok := r.apis[key]
	if ok && max >= minV {
		return true
	}
	name := kmsg.NameForKey(key)
	if ok {
		name = fmt.Sprintf("%s v%d", name, minV)
	}
	_ = r.out.Encode(line{Check: check, Result: "skip: " + name + " not advertised"})
	return false
}

// advertised asks the store's ApiVersions (franz-go's request, whichever
// client the run tests).
func advertised(brokers []string) (map[int16]int16, error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrApiVersionsRequest().RequestWith(ctx, cl)
	if err != nil {
		return nil, err
	}
	if resp.ErrorCode != 0 {
		return nil, fmt.Errorf("ApiVersions error %d", resp.ErrorCode)
	}
	m := map[int16]int16{}
	for _, k := range resp.ApiKeys {
		m[k.ApiKey] = k.MaxVersion
	}
	return m, nil
}

// event is the value of event seq: check_seq.py reads "seq=N".
func event(seq int, codec string) string {
	return fmt.Sprintf("seq=%d codec=%s msg=%s", seq, codec, strings.Repeat("x", 40+seq%60))
}

// writeLines writes the consumed values, one per line, for check_seq.py.
func writeLines(path string, vals []string) error {
	return os.WriteFile(path, []byte(strings.Join(vals, "\n")+"\n"), 0o644)
}

func fail(format string, a ...any) error { return fmt.Errorf(format, a...) }

// eventually retries fn for up to 10 s: for what a client caches (kgo keeps
// topic metadata for MetadataMinAge), not for store answers, which are final.
func eventually(fn func() error) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func main() {
	brokers := flag.String("brokers", "", "bootstrap host:port")
	n := flag.Int("n", 5000, "events to produce (split over the codecs)")
	out := flag.String("out", "consumed.txt", "file for the consumed values")
	prefix := flag.String("prefix", "gocompat", "topic and group name prefix")
	flag.CommandLine.Parse(os.Args[min(2, len(os.Args)):])
	if len(os.Args) < 2 || *brokers == "" {
		fmt.Fprintln(os.Stderr, "usage: kafkacompat franz|sarama -brokers HOST:PORT [-n N] [-out FILE]")
		os.Exit(2)
	}
	bl := strings.Split(*brokers, ",")
	apis, err := advertised(bl)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ApiVersions:", err)
		os.Exit(1)
	}
	r := &report{out: json.NewEncoder(os.Stdout), apis: apis}
	switch os.Args[1] {
	case "franz":
		runFranz(r, bl, *n, *out, *prefix)
	case "sarama":
		runSarama(r, bl, *n, *out, *prefix)
	default:
		fmt.Fprintln(os.Stderr, "unknown client", os.Args[1])
		os.Exit(2)
	}
	if r.fails > 0 {
		os.Exit(1)
	}
}
