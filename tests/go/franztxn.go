// SPDX-License-Identifier: Apache-2.0
//
// The franz-go transaction check: one committed and one aborted transaction
// on a topic of its own; a read_committed consumer must see exactly the
// committed records, a read_uncommitted one both.  Skipped, from ApiVersions,
// until the store advertises AddPartitionsToTxn and EndTxn.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func franzTxnProduce(brokers []string, topic, txnID string) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic),
		kgo.TransactionalID(txnID), kgo.TransactionTimeout(10*time.Second))
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, end := range []kgo.TransactionEndTry{kgo.TryCommit, kgo.TryAbort} {
		ctx, cancel := fctx()
		if err := cl.BeginTransaction(); err != nil {
			cancel()
			return fail("begin: %v", err)
		}
		recs := make([]*kgo.Record, 10)
		for i := range recs {
			recs[i] = &kgo.Record{Value: []byte(fmt.Sprintf("txn commit=%v i=%d", bool(end), i))}
		}
		err := cl.ProduceSync(ctx, recs...).FirstErr()
		if err == nil {
			err = cl.EndTransaction(ctx, end)
		}
		cancel()
		if err != nil {
			return fail("transaction (commit=%v): %v", bool(end), err)
		}
	}
	return nil
}

// franzTxnRead reads topic from the start until want values arrived (or 10 s
// passed), then polls once more so that records beyond want show up too.
func franzTxnRead(brokers []string, topic string, level kgo.IsolationLevel, want int) ([]string,
	error) {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.FetchIsolationLevel(level), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(300*time.Millisecond))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var vals []string
	deadline := time.Now().Add(10 * time.Second)
	for extra := 0; extra < 2 && time.Now().Before(deadline); {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fs := cl.PollFetches(ctx)
		cancel()
		fs.EachRecord(func(r *kgo.Record) { vals = append(vals, string(r.Value)) })
		if len(vals) >= want {
			extra++
		}
	}
	return vals, nil
}

func franzTxn(r *report, brokers []string, adm *kadm.Client, prefix string) {
	check := "transactions: commit + abort, read_committed"
	if !r.need(check, 24, 0) || !r.need(check, 26, 0) {
		return
	}
	topic := prefix + "-franz-txn"
	err := func() error {
		ctx, cancel := fctx()
		defer cancel()
		resp, err := adm.CreateTopics(ctx, 1, 1, nil, topic)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return err
		}
		if err := franzTxnProduce(brokers, topic, prefix+"-txn"); err != nil {
			return err
		}
		committed, err := franzTxnRead(brokers, topic, kgo.ReadCommitted(), 10)
		if err != nil {
			return err
		}
		all, err := franzTxnRead(brokers, topic, kgo.ReadUncommitted(), 20)
		if err != nil {
			return err
		}
		if len(committed) != 10 || len(all) != 20 {
			return fail("read_committed saw %d records (want the 10 committed), "+
				"read_uncommitted %d (want 20)", len(committed), len(all))
		}
		for i, v := range committed {
			if v != fmt.Sprintf("txn commit=true i=%d", i) {
				return fail("read_committed record %d is %q", i, v)
			}
		}
		dr, err := adm.DeleteTopics(ctx, topic)
		if err == nil {
			err = dr.Error()
		}
		return err
	}()
	r.rec(check, err)
}
