// SPDX-License-Identifier: Apache-2.0
//
// The sarama checks: SyncProducer (idempotent) in every codec, a consumer
// group whose second member resumes from the first member's commit, and the
// ClusterAdmin calls, each asserting what the store answered.
package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/IBM/sarama"
)

func saramaCodec(c string) sarama.CompressionCodec {
	switch c {
	case "gzip":
		return sarama.CompressionGZIP
	case "snappy":
		return sarama.CompressionSnappy
	case "lz4":
		return sarama.CompressionLZ4
	case "zstd":
		return sarama.CompressionZSTD
	}
	return sarama.CompressionNone
}

func saramaConfig() *sarama.Config {
	c := sarama.NewConfig()
	c.ClientID = "sluice-gocompat"
	c.Net.DialTimeout = 10 * time.Second
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	return c
}

func saramaProduce(r *report, brokers []string, topic string, n int) {
	per := n / len(codecs)
	for i, c := range codecs {
		cfg := saramaConfig()
		cfg.Producer.Idempotent = true
		cfg.Net.MaxOpenRequests = 1
		cfg.Producer.RequiredAcks = sarama.WaitForAll
		cfg.Producer.Return.Successes = true
		cfg.Producer.Compression = saramaCodec(c)
		p, err := sarama.NewSyncProducer(brokers, cfg)
		if err != nil {
			r.rec("SyncProducer "+c+" (idempotent)", err)
			continue
		}
		msgs := make([]*sarama.ProducerMessage, 0, per)
		for s := i * per; s < (i+1)*per; s++ {
			msgs = append(msgs, &sarama.ProducerMessage{Topic: topic,
				Key: sarama.StringEncoder(fmt.Sprintf("k%d", s)), Value: sarama.StringEncoder(event(s, c))})
		}
		err = p.SendMessages(msgs)
		if err == nil {
			seen := map[[2]int64]bool{}
			for _, m := range msgs {
				k := [2]int64{int64(m.Partition), m.Offset}
				if seen[k] {
					err = fail("offset %d of partition %d reported twice", k[1], k[0])
				}
				seen[k] = true
			}
		}
		p.Close()
		r.rec("SyncProducer "+c+" (idempotent)", err)
	}
}

// member consumes as one group member until stop() holds, marking and
// committing exactly what it handed over; first gets each claim's first
// offset.
type member struct {
	mu     sync.Mutex
	vals   *[]string
	first  map[int32]int64
	stop   func() bool
	cancel context.CancelFunc
	err    error
}

func (m *member) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (m *member) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (m *member) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for msg := range c.Messages() {
		m.mu.Lock()
		if m.stop() {
			m.mu.Unlock()
			return nil
		}
		if _, ok := m.first[msg.Partition]; !ok {
			m.first[msg.Partition] = msg.Offset
		}
		*m.vals = append(*m.vals, string(msg.Value))
		s.MarkMessage(msg, "")
		if m.stop() {
			s.Commit()
			m.cancel()
		}
		m.mu.Unlock()
	}
	return nil
}

func saramaConsume(brokers []string, topic, group string, m *member) error {
	cfg := saramaConfig()
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Offsets.AutoCommit.Enable = false
	cfg.Consumer.MaxWaitTime = 300 * time.Millisecond
	cg, err := sarama.NewConsumerGroup(brokers, group, cfg)
	if err != nil {
		return err
	}
	defer cg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
	defer cancel()
	m.cancel = cancel
	for ctx.Err() == nil {
		if err := cg.Consume(ctx, []string{topic}, m); err != nil && ctx.Err() == nil {
			return err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.stop() {
		return fail("timed out with %d values", len(*m.vals))
	}
	return nil
}

func saramaCommitted(adm sarama.ClusterAdmin, group, topic string) (map[int32]int64, error) {
	resp, err := adm.ListConsumerGroupOffsets(group, map[string][]int32{topic: {0, 1, 2}})
	if err != nil {
		return nil, err
	}
	if resp.Err != sarama.ErrNoError {
		return nil, resp.Err
	}
	m := map[int32]int64{}
	for p, b := range resp.Blocks[topic] {
		if b.Err != sarama.ErrNoError {
			return nil, b.Err
		}
		if b.Offset >= 0 { // -1: nothing committed for p
			m[p] = b.Offset
		}
	}
	return m, nil
}

func saramaGroup(r *report, brokers []string, adm sarama.ClusterAdmin, topic, group string,
	n int) []string {
	var vals []string
	m1 := &member{vals: &vals, first: map[int32]int64{}, stop: func() bool { return len(vals) >= n/2 }}
	err := saramaConsume(brokers, topic, group, m1)
	var c1 map[int32]int64
	if err == nil {
		c1, err = saramaCommitted(adm, group, topic)
		sum := int64(0)
		for _, o := range c1 {
			sum += o
		}
		if err == nil && (sum != int64(len(vals)) || len(vals) != n/2) {
			err = fail("committed offsets %v (sum %d) after consuming %d (first offsets %v)",
				c1, sum, len(vals), m1.first)
		}
	}
	if !r.rec("consumer group + commit (member 1)", err) {
		return vals
	}
	m2 := &member{vals: &vals, first: map[int32]int64{}, stop: func() bool { return len(vals) >= n }}
	err = saramaConsume(brokers, topic, group, m2)
	if err == nil {
		for p, o := range m2.first {
			if o != c1[p] {
				err = fail("member 2 started partition %d at %d, committed %d", p, o, c1[p])
			}
		}
	}
	if err == nil && len(vals) != n {
		err = fail("consumed %d values, produced %d", len(vals), n)
	}
	r.rec("resume from commit (member 2)", err)
	return vals
}

func saramaAdmin(r *report, adm sarama.ClusterAdmin, client sarama.Client, topic, group string,
	n int) {
	c, err := saramaCommitted(adm, group, topic)
	sum := int64(0)
	for _, o := range c {
		sum += o
	}
	if err == nil && sum != int64(n) {
		err = fail("committed offsets sum to %d, consumed %d", sum, n)
	}
	r.rec("ListConsumerGroupOffsets", err)

	lg, err := adm.ListConsumerGroups()
	if err == nil && lg[group] != "consumer" {
		err = fail("ListConsumerGroups: %s has protocol type %q", group, lg[group])
	}
	r.rec("ListConsumerGroups", err)

	dg, err := adm.DescribeConsumerGroups([]string{group})
	if err == nil && (len(dg) != 1 || dg[0].Err != sarama.ErrNoError || dg[0].State != "Empty" ||
		dg[0].ProtocolType != "consumer") {
		err = fail("DescribeConsumerGroups: %+v", dg)
	}
	r.rec("DescribeConsumerGroups", err)

	if r.need("CreatePartitions", 37, 0) {
		err := adm.CreatePartitions(topic, parts+1, nil, false)
		if err == nil {
			var ps []int32
			if err = client.RefreshMetadata(topic); err == nil {
				ps, err = client.Partitions(topic)
			}
			if err == nil && len(ps) != parts+1 {
				err = fail("%d partitions after asking for %d", len(ps), parts+1)
			}
		}
		r.rec("CreatePartitions", err)
	}
	if r.need("DeleteRecords", 21, 0) {
		err := adm.DeleteRecords(topic, map[int32]int64{0: 5})
		if err == nil {
			o, e := client.GetOffset(topic, 0, sarama.OffsetOldest)
			if err = e; err == nil && o != 5 {
				err = fail("oldest offset %d after deleting before 5", o)
			}
		}
		r.rec("DeleteRecords", err)
	}
	if r.need("DeleteConsumerGroup", 42, 0) {
		err := adm.DeleteConsumerGroup(group)
		if err == nil {
			lg, e := adm.ListConsumerGroups()
			if _, ok := lg[group]; e == nil && ok {
				e = fail("group %s still listed after DeleteConsumerGroup", group)
			}
			err = e
		}
		r.rec("DeleteConsumerGroup", err)
	}
}

func runSarama(r *report, brokers []string, n int, out, prefix string) {
	topic, group := prefix+"-sarama", prefix+"-sarama-group"
	client, err := sarama.NewClient(brokers, saramaConfig())
	if err != nil {
		r.rec("client", err)
		return
	}
	defer client.Close()
	adm, err := sarama.NewClusterAdminFromClient(client)
	if err != nil {
		r.rec("ClusterAdmin", err)
		return
	}
	ret := "3600000"
	err = adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: parts, ReplicationFactor: 1,
		ConfigEntries: map[string]*string{"retention.ms": &ret}}, false)
	if !r.rec("CreateTopic with configs", err) {
		if err = adm.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: parts,
			ReplicationFactor: 1}, false); err != nil {
			return
		}
	}
	ts, err := adm.ListTopics()
	if err == nil && ts[topic].NumPartitions != parts {
		err = fail("ListTopics: %s has %d partitions", topic, ts[topic].NumPartitions)
	}
	r.rec("ListTopics", err)
	ents, err := adm.DescribeConfig(sarama.ConfigResource{Type: sarama.TopicResource, Name: topic})
	if err == nil {
		err = fail("DescribeConfig: no retention.ms")
		for _, e := range ents {
			if e.Name == "retention.ms" {
				err = nil
				if e.Value != ret {
					err = fail("DescribeConfig: retention.ms %q, created with %s", e.Value, ret)
				}
			}
		}
	}
	r.rec("DescribeConfig", err)
	saramaProduce(r, brokers, topic, n)
	vals := saramaGroup(r, brokers, adm, topic, group, n)
	sort.Strings(vals)
	if err := writeLines(out, vals); err != nil {
		r.rec("write consumed", err)
	}
	saramaAdmin(r, adm, client, topic, group, n)
	err = adm.DeleteTopic(topic)
	if err == nil {
		ts, e := adm.ListTopics()
		if _, ok := ts[topic]; e == nil && ok {
			e = fail("%s still listed after DeleteTopic", topic)
		}
		err = e
	}
	r.rec("DeleteTopic", err)
}
