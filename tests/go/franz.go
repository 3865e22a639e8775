// SPDX-License-Identifier: Apache-2.0
//
// The franz-go checks: kgo's idempotent producer in every codec, a consumer
// group whose second member resumes from the first member's commit, and the
// kadm admin calls, each asserting what the store answered.
package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const parts = 3

func fctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 15*time.Second)
}

func franzCodec(c string) kgo.CompressionCodec {
	switch c {
	case "gzip":
		return kgo.GzipCompression()
	case "snappy":
		return kgo.SnappyCompression()
	case "lz4":
		return kgo.Lz4Compression()
	case "zstd":
		return kgo.ZstdCompression()
	}
	return kgo.NoCompression()
}

// produced: per partition, the (offset, timestamp) of every record written.
type produced map[int32][][2]int64

func topicConfig(adm *kadm.Client, topic, key string) (string, error) {
	ctx, cancel := fctx()
	defer cancel()
	rcs, err := adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return "", err
	}
	rc, err := rcs.On(topic, nil)
	if err != nil {
		return "", err
	}
	if rc.Err != nil {
		return "", rc.Err
	}
	for _, c := range rc.Configs {
		if c.Key == key && c.Value != nil {
			return *c.Value, nil
		}
	}
	return "", fail("config %s not described", key)
}

func franzCreate(r *report, adm *kadm.Client, topic string) error {
	ret := "3600000"
	cfg := map[string]*string{"retention.ms": &ret}
	for k, v := range map[string]string{"cleanup.policy": "delete",
		"compression.type": "producer", "message.timestamp.type": "CreateTime"} {
		cfg[k] = &v
	}
	ctx, cancel := fctx()
	defer cancel()
	resp, err := adm.CreateTopics(ctx, parts, 1, cfg, topic)
	if err == nil {
		err = resp.Error()
	}
	if err == nil {
		var v string
		v, err = topicConfig(adm, topic, "retention.ms")
		if err == nil && v != ret {
			err = fail("retention.ms described as %q, created with %s", v, ret)
		}
	}
	if r.rec("CreateTopics with configs + DescribeTopicConfigs", err) {
		return nil
	}
	// Keep testing the rest on a topic made without configs.
	resp, err = adm.CreateTopics(ctx, parts, 1, nil, topic)
	if err == nil {
		err = resp.Error()
	}
	if errors.Is(err, kerr.TopicAlreadyExists) {
		err = nil
	}
	return err
}

func franzProduce(r *report, brokers []string, topic string, n int, base int64) produced {
	got := produced{}
	per := n / len(codecs)
	for i, c := range codecs {
		cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
			kgo.ProducerBatchCompression(franzCodec(c)), kgo.RequiredAcks(kgo.AllISRAcks()),
			kgo.ProducerLinger(5*time.Millisecond))
		if err != nil {
			r.rec("produce "+c+" (idempotent)", err)
			continue
		}
		recs := make([]*kgo.Record, 0, per)
		for s := i * per; s < (i+1)*per; s++ {
			recs = append(recs, &kgo.Record{Key: []byte(fmt.Sprintf("k%d", s)),
				Value: []byte(event(s, c)), Timestamp: time.UnixMilli(base + int64(s))})
		}
		ctx, cancel := fctx()
		res := cl.ProduceSync(ctx, recs...)
		cancel()
		err = res.FirstErr()
		if err == nil {
			seen := map[[2]int64]bool{}
			for _, pr := range res {
				k := [2]int64{int64(pr.Record.Partition), pr.Record.Offset}
				if seen[k] {
					err = fail("offset %d of partition %d reported twice", k[1], k[0])
				}
				seen[k] = true
				got[pr.Record.Partition] = append(got[pr.Record.Partition],
					[2]int64{pr.Record.Offset, pr.Record.Timestamp.UnixMilli()})
			}
		}
		if err == nil {
			if id, _, e := cl.ProducerID(context.Background()); e != nil || id < 0 {
				err = fail("no producer id (%d, %v): not idempotent", id, e)
			}
		}
		cl.Close()
		r.rec("produce "+c+" (idempotent)", err)
	}
	return got
}

// consume polls as one group member until total values are held or stop
// says so; it commits exactly what it polled.
func consume(brokers []string, topic, group string, vals *[]string, first map[int32]int64,
	upto int, during func() error) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(300*time.Millisecond))
	if err != nil {
		return err
	}
	defer cl.Close()
	deadline := time.Now().Add(25 * time.Second)
	for len(*vals) < upto {
		if time.Now().After(deadline) {
			return fail("timed out with %d values", len(*vals))
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		fs := cl.PollRecords(ctx, upto-len(*vals))
		cancel()
		for _, fe := range fs.Errors() {
			if !errors.Is(fe.Err, context.DeadlineExceeded) {
				return fail("fetch %s/%d: %v", fe.Topic, fe.Partition, fe.Err)
			}
		}
		fs.EachRecord(func(rec *kgo.Record) {
			if _, ok := first[rec.Partition]; !ok {
				first[rec.Partition] = rec.Offset
			}
			*vals = append(*vals, string(rec.Value))
		})
	}
	ctx, cancel := fctx()
	defer cancel()
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return fail("commit: %v", err)
	}
	if during != nil {
		return during()
	}
	return nil
}

func committed(adm *kadm.Client, group, topic string) (map[int32]int64, error) {
	ctx, cancel := fctx()
	defer cancel()
	os, err := adm.FetchOffsets(ctx, group)
	if err == nil {
		err = os.Error()
	}
	if err != nil {
		return nil, err
	}
	m := map[int32]int64{}
	for p, o := range os[topic] {
		if o.At >= 0 { // -1: nothing committed for p
			m[p] = o.At
		}
	}
	return m, nil
}

func franzGroup(r *report, brokers []string, adm *kadm.Client, topic, group string,
	n int) []string {
	var vals []string
	first1 := map[int32]int64{}
	err := consume(brokers, topic, group, &vals, first1, n/2, nil)
	var c1 map[int32]int64
	if err == nil {
		c1, err = committed(adm, group, topic)
		sum := int64(0)
		for _, o := range c1 {
			sum += o
		}
		if err == nil && (sum != int64(len(vals)) || len(vals) != n/2) {
			err = fail("committed offsets sum to %d after consuming %d", sum, len(vals))
		}
	}
	if !r.rec("consume with group + commit (member 1)", err) {
		return vals
	}
	first2 := map[int32]int64{}
	during := func() error {
		ctx, cancel := fctx()
		defer cancel()
		dg, err := adm.DescribeGroups(ctx, group)
		if err == nil {
			err = dg.Error()
		}
		if err == nil {
			g := dg[group]
			if g.State != "Stable" || len(g.Members) != 1 || g.ProtocolType != "consumer" {
				err = fail("described %s with %d members, protocol type %q", g.State,
					len(g.Members), g.ProtocolType)
			}
		}
		r.rec("kadm DescribeGroups (live member)", err)
		return nil
	}
	err = consume(brokers, topic, group, &vals, first2, n, during)
	if err == nil {
		for p, o := range first2 {
			if o != c1[p] {
				err = fail("member 2 started partition %d at %d, committed %d", p, o, c1[p])
			}
		}
	}
	if err == nil && (len(vals) != n || len(first2) == 0) {
		err = fail("consumed %d values, produced %d", len(vals), n)
	}
	r.rec("resume from commit (member 2)", err)
	return vals
}

func franzOffsets(r *report, adm *kadm.Client, topic string, got produced, base int64, n int) {
	ctx, cancel := fctx()
	defer cancel()
	start, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = start.Error()
	}
	var end kadm.ListedOffsets
	if err == nil {
		end, err = adm.ListEndOffsets(ctx, topic)
	}
	if err == nil {
		err = end.Error()
	}
	for p := int32(0); err == nil && p < parts; p++ {
		s, e := start[topic][p].Offset, end[topic][p].Offset
		if s != 0 || e != int64(len(got[p])) {
			err = fail("partition %d: start %d end %d, produced %d", p, s, e, len(got[p]))
		}
	}
	r.rec("ListStartOffsets + ListEndOffsets", err)

	at := base + int64(n/2)
	after, err := adm.ListOffsetsAfterMilli(ctx, at, topic)
	if err == nil {
		err = after.Error()
	}
	for p := int32(0); err == nil && p < parts; p++ {
		want := int64(len(got[p]))
		for _, ot := range got[p] {
			if ot[1] >= at && ot[0] < want {
				want = ot[0]
			}
		}
		if o := after[topic][p].Offset; o != want {
			err = fail("partition %d: offset after %d is %d, want %d", p, at, o, want)
		}
	}
	r.rec("ListOffsetsAfterMilli", err)

	if !r.need("ListMaxTimestampOffsets", 2, 7) {
		return
	}
	mx, err := adm.ListMaxTimestampOffsets(ctx, topic)
	if err == nil {
		err = mx.Error()
	}
	for p := int32(0); err == nil && p < parts; p++ {
		want, wts := int64(-1), int64(-1)
		for _, ot := range got[p] {
			if ot[1] > wts {
				want, wts = ot[0], ot[1]
			}
		}
		if o := mx[topic][p].Offset; o != want {
			err = fail("partition %d: max-timestamp offset %d, want %d", p, o, want)
		}
	}
	r.rec("ListMaxTimestampOffsets", err)
}

func franzMeta(r *report, adm *kadm.Client, cl *kgo.Client, topic string) {
	ctx, cancel := fctx()
	defer cancel()
	td, err := adm.ListTopics(ctx)
	if err == nil {
		err = td.Error()
	}
	if err == nil && len(td[topic].Partitions) != parts {
		err = fail("ListTopics: %s has %d partitions", topic, len(td[topic].Partitions))
	}
	r.rec("ListTopics", err)

	md, err := adm.Metadata(ctx, topic)
	if err == nil && len(md.Brokers) != 1 {
		err = fail("Metadata: %d brokers", len(md.Brokers))
	}
	if err == nil {
		err = md.Topics.Error()
	}
	if err == nil {
		for p, pd := range md.Topics[topic].Partitions {
			if pd.Leader != md.Brokers[0].NodeID {
				err = fail("partition %d led by %d, broker is %d", p, pd.Leader, md.Brokers[0].NodeID)
			}
		}
	}
	r.rec("Metadata", err)

	bm, err := adm.BrokerMetadata(ctx)
	if err == nil && (len(bm.Brokers) != 1 || bm.Controller != bm.Brokers[0].NodeID) {
		err = fail("BrokerMetadata: %d brokers, controller %d", len(bm.Brokers), bm.Controller)
	}
	r.rec("BrokerMetadata", err)

	if r.need("DescribeCluster", 60, 0) {
		resp, err := kmsg.NewPtrDescribeClusterRequest().RequestWith(ctx, cl)
		if err == nil && resp.ErrorCode != 0 {
			err = fail("DescribeCluster error %d", resp.ErrorCode)
		}
		if err == nil && (len(resp.Brokers) != 1 || resp.ClusterID == "" ||
			resp.ControllerID != resp.Brokers[0].NodeID) {
			err = fail("DescribeCluster: %d brokers, cluster id %q, controller %d",
				len(resp.Brokers), resp.ClusterID, resp.ControllerID)
		}
		r.rec("DescribeCluster", err)
	}
}

func franzConfigs(r *report, adm *kadm.Client, topic string) {
	if r.need("AlterTopicConfigs (incremental)", 44, 0) {
		v := "7200000"
		ctx, cancel := fctx()
		resp, err := adm.AlterTopicConfigs(ctx, []kadm.AlterConfig{{Op: kadm.SetConfig,
			Name: "retention.ms", Value: &v}}, topic)
		cancel()
		if err == nil {
			_, err = resp.On(topic, func(a *kadm.AlterConfigsResponse) error { return a.Err })
		}
		if err == nil {
			got, e := topicConfig(adm, topic, "retention.ms")
			if err = e; err == nil && got != v {
				err = fail("retention.ms is %q after setting %s", got, v)
			}
		}
		r.rec("AlterTopicConfigs (incremental)", err)
	}
	if r.need("AlterTopicConfigsState (AlterConfigs)", 33, 0) {
		v := "10800000"
		ctx, cancel := fctx()
		resp, err := adm.AlterTopicConfigsState(ctx, []kadm.AlterConfig{{Name: "retention.ms",
			Value: &v}}, topic)
		cancel()
		if err == nil {
			_, err = resp.On(topic, func(a *kadm.AlterConfigsResponse) error { return a.Err })
		}
		if err == nil {
			got, e := topicConfig(adm, topic, "retention.ms")
			if err = e; err == nil && got != v {
				err = fail("retention.ms is %q after setting %s", got, v)
			}
		}
		r.rec("AlterTopicConfigsState (AlterConfigs)", err)
	}
}

func franzPartitionsRecords(r *report, adm *kadm.Client, topic string) {
	ctx, cancel := fctx()
	defer cancel()
	if r.need("CreatePartitions", 37, 0) {
		resp, err := adm.CreatePartitions(ctx, 1, topic)
		if err == nil {
			err = resp.Error()
		}
		if err == nil {
			err = eventually(func() error {
				td, e := adm.ListTopics(ctx, topic)
				if e == nil && len(td[topic].Partitions) != parts+1 {
					e = fail("%d partitions after adding one to %d", len(td[topic].Partitions), parts)
				}
				return e
			})
		}
		r.rec("CreatePartitions", err)
	}
	if r.need("DeleteRecords", 21, 0) {
		var os kadm.Offsets
		os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 5})
		resp, err := adm.DeleteRecords(ctx, os)
		if err == nil {
			err = resp.Error()
		}
		if err == nil && resp[topic][0].LowWatermark != 5 {
			err = fail("low watermark %d after deleting before 5", resp[topic][0].LowWatermark)
		}
		if err == nil {
			st, e := adm.ListStartOffsets(ctx, topic)
			if err = e; err == nil && st[topic][0].Offset != 5 {
				err = fail("start offset %d after deleting before 5", st[topic][0].Offset)
			}
		}
		r.rec("DeleteRecords", err)
	}
}

func franzGroupsAdmin(r *report, adm *kadm.Client, topic, group string, n int) {
	ctx, cancel := fctx()
	defer cancel()
	c, err := committed(adm, group, topic)
	sum := int64(0)
	for _, o := range c {
		sum += o
	}
	if err == nil && sum != int64(n) {
		err = fail("committed offsets sum to %d, consumed %d", sum, n)
	}
	r.rec("FetchOffsets", err)

	lg, err := adm.ListGroups(ctx)
	if err == nil {
		if _, ok := lg[group]; !ok {
			err = fail("ListGroups lacks %s", group)
		}
	}
	r.rec("ListGroups", err)
	if r.need("ListGroups state filter", 16, 4) {
		lg, err := adm.ListGroups(ctx, "Empty")
		if err == nil && (lg[group].State != "Empty") {
			err = fail("group %s not listed as Empty: %+v", group, lg[group])
		}
		if err == nil {
			lg, err = adm.ListGroups(ctx, "Stable")
			if _, ok := lg[group]; err == nil && ok {
				err = fail("empty group %s listed under the Stable filter", group)
			}
		}
		r.rec("ListGroups state filter", err)
	}

	g2 := group + "-admin"
	var os kadm.Offsets
	os.Add(kadm.Offset{Topic: topic, Partition: 0, At: 3})
	os.Add(kadm.Offset{Topic: topic, Partition: 1, At: 4})
	resp, err := adm.CommitOffsets(ctx, g2, os)
	if err == nil {
		err = resp.Error()
	}
	if err == nil {
		c, e := committed(adm, g2, topic)
		if err = e; err == nil && (c[0] != 3 || c[1] != 4) {
			err = fail("committed %v, fetched %v", os, c)
		}
	}
	r.rec("CommitOffsets (admin)", err)
	if r.need("DeleteOffsets", 47, 0) {
		dr, err := adm.DeleteOffsets(ctx, g2, kadm.TopicsSet{topic: {0: {}}})
		if err == nil {
			err = dr.Error()
		}
		if err == nil {
			c, e := committed(adm, g2, topic)
			if p0, ok := c[0]; e == nil && (ok && p0 >= 0 || c[1] != 4) {
				e = fail("after deleting partition 0's offset, fetched %v", c)
			}
			err = e
		}
		r.rec("DeleteOffsets", err)
	}
	if r.need("DeleteGroups", 42, 0) {
		dr, err := adm.DeleteGroups(ctx, group, g2)
		if err == nil {
			err = dr.Error()
		}
		if err == nil {
			lg, e := adm.ListGroups(ctx)
			err = e
			for _, g := range []string{group, g2} {
				if _, ok := lg[g]; err == nil && ok {
					err = fail("group %s still listed after DeleteGroups", g)
				}
			}
		}
		r.rec("DeleteGroups", err)
	}
}

func runFranz(r *report, brokers []string, n int, out, prefix string) {
	topic, group := prefix+"-franz", prefix+"-franz-group"
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.MetadataMinAge(100*time.Millisecond))
	if err != nil {
		r.rec("client", err)
		return
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if err := franzCreate(r, adm, topic); err != nil {
		r.rec("CreateTopics", err)
		return
	}
	base := time.Now().Add(-time.Hour).UnixMilli()
	got := franzProduce(r, brokers, topic, n, base)
	franzMeta(r, adm, cl, topic)
	franzOffsets(r, adm, topic, got, base, n)
	vals := franzGroup(r, brokers, adm, topic, group, n)
	sort.Strings(vals)
	if err := writeLines(out, vals); err != nil {
		r.rec("write consumed", err)
	}
	franzGroupsAdmin(r, adm, topic, group, n)
	franzConfigs(r, adm, topic)
	franzPartitionsRecords(r, adm, topic)
	franzTxn(r, brokers, adm, prefix)
	ctx, cancel := fctx()
	defer cancel()
	dr, err := adm.DeleteTopics(ctx, topic)
	if err == nil {
		err = dr.Error()
	}
	if err == nil {
		err = eventually(func() error {
			td, e := adm.ListTopics(ctx)
			if _, ok := td[topic]; e == nil && ok {
				e = fail("%s still listed after DeleteTopics", topic)
			}
			return e
		})
	}
	r.rec("DeleteTopics", err)
}
