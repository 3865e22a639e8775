/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Transactions in the store: the engine's side (last stable offset, markers,
 * aborted-transaction index, read_committed reads, rebuilt on reopen) and
 * the coordinator (store/txn/txn.h: InitProducerId epochs and fencing, the
 * partition check on produce, commit/abort, timeouts, the journal and its
 * recovery of Ongoing and PrepareCommit transactions).
 */
#include <fcntl.h>
#include <unistd.h>

#include "lib/clock.h"
#include "lib/mem.h"
#include "store/txn/txn_int.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

static char datadir[256], metadir[300];

static struct engine *open_log(enum engine_fsync mode)
{
	struct engine_config c;
	struct engine *log = NULL;
	struct topic_config tc = {.partitions = 2};

	lt_config(&c, datadir, mode);
	CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
	(void)engine_topic_create(log, "t", &tc);
	return log;
}

static void fresh(void)
{
	char *tmp = unit_tmpdir();

	snprintf(datadir, sizeof(datadir), "%s/data", tmp);
	snprintf(metadir, sizeof(metadir), "%s/meta", datadir);
}

/* A batch of n records; transactional when txn. */
static void mk(struct buf *b, int64_t first, int n, int64_t pid, int16_t epoch, int32_t seq,
	       bool txn)
{
	CU_ASSERT_EQUAL_FATAL(lt_batch(b, first, n, 1700000000000, pid, epoch, seq, 0), 0);
	if (txn) {
		put_be16(b->data + BATCH_OFF_ATTRIBUTES,
			 (uint16_t)(get_be16(b->data + BATCH_OFF_ATTRIBUTES) |
				    BATCH_ATTR_TRANSACTIONAL));
		batch_update_crc(b->data, b->len);
	}
}

static int64_t append(struct engine *log, int32_t p, struct buf *b)
{
	return lt_append(log, "t", p, b, NULL);
}

static int64_t lso(struct engine *log, int32_t p)
{
	struct engine_partition_info pi;

	CU_ASSERT_EQUAL(engine_partition_info(log, "t", p, &pi), 0);
	return pi.last_stable;
}

/* Bytes engine_read_stable() returns from offset: the end offset reached. */
static int64_t stable_end(struct engine *log, int64_t from)
{
	int64_t off = from;

	for (;;) {
		struct engine_slice s;
		uint8_t h[BATCH_HEADER_SIZE];
		size_t at = 0;

		CU_ASSERT_EQUAL_FATAL(engine_read_stable(log, "t", 0, off, 1 << 20, &s), 0);
		if (s.len == 0) {
			engine_slice_release(&s);
			return off;
		}
		while (at < s.len) {
			struct batch_info bi;

			CU_ASSERT_EQUAL_FATAL(fs_pread_full(s.fd, h, sizeof(h), s.pos + (off_t)at),
					      sizeof(h));
			CU_ASSERT_EQUAL_FATAL(batch_header_parse(h, sizeof(h), &bi), 0);
			off = batch_last_offset(&bi) + 1;
			at += bi.size;
		}
		engine_slice_release(&s);
	}
}

static int allow_all(void *arg, const char *topic, int32_t partition, int64_t pid, int16_t epoch)
{
	(void)arg, (void)topic, (void)partition, (void)pid, (void)epoch;
	return 0;
}

static void test_engine_lso_and_aborted(void)
{
	struct engine_aborted_txn ab[4];
	struct engine_append_result r;
	struct engine *log;
	struct buf b;

	fresh();
	buf_init(&b, 0);
	log = open_log(ENGINE_FSYNC_NEVER);
	mk(&b, 0, 2, -1, 0, 0, false);
	CU_ASSERT_EQUAL(append(log, 0, &b), 0);
	mk(&b, 2, 2, 7, 0, 0, true);
	/* without a coordinator no transaction is open */
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), -ERR_TXN_STATE);
	engine_set_txn_check(log, allow_all, NULL);
	CU_ASSERT_EQUAL(append(log, 0, &b), 2);
	CU_ASSERT_EQUAL(lso(log, 0), 2);
	mk(&b, 4, 1, -1, 0, 0, false);
	CU_ASSERT_EQUAL(append(log, 0, &b), 4);
	CU_ASSERT_EQUAL(lso(log, 0), 2);
	CU_ASSERT_EQUAL(stable_end(log, 0), 2); /* read_committed stops at the LSO */
	CU_ASSERT_EQUAL(stable_end(log, 2), 2);
	CU_ASSERT_EQUAL(engine_append_marker(log, "t", 0, 7, 0, true, 0, &r), 0);
	CU_ASSERT_EQUAL(r.base_offset, 5);
	CU_ASSERT_EQUAL(lso(log, 0), 6);
	CU_ASSERT_EQUAL(stable_end(log, 0), 6);
	/* a second transaction of the same producer, aborted */
	mk(&b, 6, 2, 7, 0, 2, true);
	CU_ASSERT_EQUAL(append(log, 0, &b), 6);
	CU_ASSERT_EQUAL(engine_append_marker(log, "t", 0, 7, 0, false, 0, &r), 0);
	CU_ASSERT_EQUAL(r.base_offset, 8);
	CU_ASSERT_EQUAL(lso(log, 0), 9);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 100, ab, 4), 1);
	CU_ASSERT_EQUAL(ab[0].producer_id, 7);
	CU_ASSERT_EQUAL(ab[0].first_offset, 6);
	CU_ASSERT_EQUAL(ab[0].last_offset, 8);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 9, 100, ab, 4), 0);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 6, ab, 4), 0);
	/* a retried marker of a closed transaction changes nothing */
	CU_ASSERT_EQUAL(engine_append_marker(log, "t", 0, 7, 0, false, 0, &r), 0);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 100, ab, 4), 1);
	/* clients cannot write control batches */
	{
		struct engine_slice s;
		uint8_t ctl[256];

		CU_ASSERT_EQUAL(engine_read(log, "t", 0, 5, 1, &s), 0);
		CU_ASSERT_EQUAL_FATAL(fs_pread_full(s.fd, ctl, s.len, s.pos), (ssize_t)s.len);
		CU_ASSERT_EQUAL(engine_append(log, "t", 0, ctl, s.len, &r), -ERR_INVALID);
		engine_slice_release(&s);
	}
	/* left open across a restart */
	mk(&b, 10, 1, 9, 0, 0, true);
	CU_ASSERT_EQUAL(append(log, 0, &b), 10);
	CU_ASSERT_EQUAL(lso(log, 0), 10);
	/* another partition is not affected */
	CU_ASSERT_EQUAL(lso(log, 1), 0);
	engine_close(log);

	log = open_log(ENGINE_FSYNC_NEVER);
	CU_ASSERT_EQUAL(lso(log, 0), 10);
	CU_ASSERT_EQUAL(lso(log, 1), 0);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 100, ab, 4), 1);
	CU_ASSERT_EQUAL(ab[0].first_offset, 6);
	CU_ASSERT_EQUAL(engine_append_marker(log, "t", 0, 9, 0, false, 0, &r), 0);
	CU_ASSERT_EQUAL(lso(log, 0), 12);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 100, ab, 4), 2);
	engine_close(log);
	buf_release(&b);
}

/* ---------------------------------------------------------------- coordinator */

static struct txn_coord *
open_coord(struct engine *log,
	   int (*apply)(void *, const char *, const struct txn_offset *, size_t), void *arg)
{
	struct txn_config cfg;
	struct txn_coord *c = NULL;

	txn_config_init(&cfg);
	cfg.meta_dir = metadir;
	cfg.check_interval_ms = 3600000; /* the tests tick themselves */
	cfg.apply_offsets = apply;
	cfg.arg = arg;
	CU_ASSERT_EQUAL_FATAL(txn_coord_open(log, &cfg, &c), 0);
	return c;
}

static enum txn_state state_of(struct txn_coord *c, const char *tid)
{
	struct txn_info ti;

	CU_ASSERT_EQUAL_FATAL(txn_describe(c, tid, &ti), 0);
	return ti.state;
}

/* Tick until the transaction is settled (markers visible). */
static enum txn_state settled(struct txn_coord *c, const char *tid)
{
	for (int i = 0; i < 500; i++) {
		enum txn_state s = state_of(c, tid);

		if (s != TXN_PREPARE_COMMIT && s != TXN_PREPARE_ABORT)
			return s;
		usleep(10000);
		txn_coord_tick(c, clock_wall_ms());
	}
	return state_of(c, tid);
}

struct applied {
	int n;
	int64_t last;
};

static int apply(void *arg, const char *group, const struct txn_offset *o, size_t n)
{
	struct applied *a = arg;

	CU_ASSERT_STRING_EQUAL(group, "g");
	a->n += (int)n;
	a->last = o[n - 1].offset;
	return 0;
}

static void test_commit_abort_fencing(void)
{
	struct txn_tp tps[] = {{"t", 0}, {"t", 1}};
	struct txn_offset off = {.topic = "t", .partition = 0, .offset = 42, .leader_epoch = -1};
	struct engine_aborted_txn ab[4];
	struct engine_append_result r;
	struct applied ap = {0};
	struct engine *log;
	struct txn_coord *c;
	int64_t pid, pid2;
	int16_t ep, ep2;
	struct buf b;

	fresh();
	buf_init(&b, 0);
	log = open_log(ENGINE_FSYNC_ALWAYS);
	c = open_coord(log, apply, &ap);
	CU_ASSERT_EQUAL(txn_init_producer(c, "tx", 0, -1, -1, NULL, &pid, &ep),
			TXN_ERR_INVALID_TRANSACTION_TIMEOUT);
	CU_ASSERT_EQUAL(txn_init_producer(c, "tx", 60000, -1, -1, NULL, &pid, &ep), TXN_OK);
	CU_ASSERT_EQUAL(ep, 0);
	/* a second instance bumps the epoch and fences the first */
	CU_ASSERT_EQUAL(txn_init_producer(c, "tx", 60000, -1, -1, NULL, &pid2, &ep2), TXN_OK);
	CU_ASSERT_EQUAL(pid2, pid);
	CU_ASSERT_EQUAL(ep2, 1);
	CU_ASSERT_EQUAL(txn_add_partitions(c, "tx", pid, 0, tps, 1), TXN_ERR_PRODUCER_FENCED);
	CU_ASSERT_EQUAL(txn_add_partitions(c, "tx", pid + 1, 1, tps, 1),
			TXN_ERR_INVALID_PRODUCER_ID_MAPPING);
	CU_ASSERT_EQUAL(txn_add_partitions(c, "nope", pid, 1, tps, 1),
			TXN_ERR_INVALID_PRODUCER_ID_MAPPING);
	/* v3+: the caller's own pid/epoch must match */
	CU_ASSERT_EQUAL(txn_init_producer(c, "tx", 60000, pid, 0, NULL, &pid2, &ep2),
			TXN_ERR_PRODUCER_FENCED);
	CU_ASSERT_EQUAL(txn_end(c, "tx", pid, 1, true), TXN_ERR_INVALID_TXN_STATE);

	CU_ASSERT_EQUAL(txn_add_partitions(c, "tx", pid, 1, tps, 1), TXN_OK);
	CU_ASSERT_EQUAL(state_of(c, "tx"), TXN_ONGOING);
	mk(&b, 0, 3, pid, 1, 0, true);
	CU_ASSERT_EQUAL(append(log, 0, &b), 0);
	/* not added: refused; stale epoch: fenced */
	CU_ASSERT_EQUAL(engine_append(log, "t", 1, b.data, b.len, &r), -ERR_TXN_STATE);
	mk(&b, 0, 3, pid, 0, 3, true);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), -ERR_FENCED);
	CU_ASSERT_EQUAL(txn_stage_offsets(c, "tx", pid, 1, "g", &off, 1),
			TXN_ERR_INVALID_TXN_STATE);
	CU_ASSERT_EQUAL(txn_add_offsets(c, "tx", pid, 1, "g"), TXN_OK);
	CU_ASSERT_EQUAL(txn_stage_offsets(c, "tx", pid, 1, "g", &off, 1), TXN_OK);
	CU_ASSERT_EQUAL(lso(log, 0), 0);
	CU_ASSERT_EQUAL(txn_end(c, "tx", pid, 1, false), TXN_OK);
	/* aborted: nothing applied, the marker closes it */
	CU_ASSERT_EQUAL(settled(c, "tx"), TXN_COMPLETE_ABORT);
	CU_ASSERT_EQUAL(ap.n, 0);
	CU_ASSERT_EQUAL(lso(log, 0), 4);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 100, ab, 4), 1);
	/* a retried EndTxn(abort) is fine, a commit now is not */
	CU_ASSERT_EQUAL(txn_end(c, "tx", pid, 1, false), TXN_OK);
	CU_ASSERT_EQUAL(txn_end(c, "tx", pid, 1, true), TXN_ERR_INVALID_TXN_STATE);

	/* the next transaction commits, on both partitions */
	CU_ASSERT_EQUAL(txn_add_partitions(c, "tx", pid, 1, tps, 2), TXN_OK);
	mk(&b, 3, 2, pid, 1, 3, true);
	CU_ASSERT_EQUAL(append(log, 0, &b), 4);
	mk(&b, 0, 2, pid, 1, 0, true);
	CU_ASSERT_EQUAL(append(log, 1, &b), 0);
	CU_ASSERT_EQUAL(txn_add_offsets(c, "tx", pid, 1, "g"), TXN_OK);
	CU_ASSERT_EQUAL(txn_stage_offsets(c, "tx", pid, 1, "g", &off, 1), TXN_OK);
	CU_ASSERT(txn_offsets_pending(c, "g", "t", 0));
	CU_ASSERT(!txn_offsets_pending(c, "g", "t", 1));
	CU_ASSERT(!txn_offsets_pending(c, "h", "t", 0));
	CU_ASSERT_EQUAL(lso(log, 0), 4);
	CU_ASSERT_EQUAL(lso(log, 1), 0);
	CU_ASSERT_EQUAL(txn_end(c, "tx", pid, 1, true), TXN_OK);
	CU_ASSERT_EQUAL(ap.n, 1);
	CU_ASSERT_EQUAL(ap.last, 42);
	CU_ASSERT_EQUAL(settled(c, "tx"), TXN_COMPLETE_COMMIT);
	CU_ASSERT(!txn_offsets_pending(c, "g", "t", 0));
	CU_ASSERT_EQUAL(lso(log, 0), 7);
	CU_ASSERT_EQUAL(lso(log, 1), 3);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 100, ab, 4), 1);
	/* after the commit the producer writes no transactional batch */
	CU_ASSERT_EQUAL(engine_append(log, "t", 1, b.data, b.len, &r), -ERR_TXN_STATE);
	txn_coord_free(c);
	engine_close(log);
	buf_release(&b);
}

static void test_timeout_and_restart(void)
{
	struct txn_tp tp = {"t", 0};
	struct engine_aborted_txn ab[4];
	struct engine_append_result r;
	struct engine *log;
	struct txn_coord *c;
	struct txn_info ti;
	int64_t pid, pid2;
	int16_t ep, ep2;
	struct buf b;

	fresh();
	buf_init(&b, 0);
	log = open_log(ENGINE_FSYNC_ALWAYS);
	c = open_coord(log, NULL, NULL);
	CU_ASSERT_EQUAL(txn_init_producer(c, "slow", 100, -1, -1, NULL, &pid, &ep), TXN_OK);
	CU_ASSERT_EQUAL(txn_add_partitions(c, "slow", pid, ep, &tp, 1), TXN_OK);
	mk(&b, 0, 1, pid, ep, 0, true);
	CU_ASSERT_EQUAL(append(log, 0, &b), 0);
	txn_coord_tick(c, clock_wall_ms() + 50); /* not yet */
	CU_ASSERT_EQUAL(state_of(c, "slow"), TXN_ONGOING);
	txn_coord_tick(c, clock_wall_ms() + 1000);
	CU_ASSERT_EQUAL(settled(c, "slow"), TXN_COMPLETE_ABORT);
	CU_ASSERT_EQUAL(txn_describe(c, "slow", &ti), 0);
	CU_ASSERT_EQUAL(ti.epoch, ep + 1); /* bumped: the producer is fenced */
	CU_ASSERT_EQUAL(txn_add_partitions(c, "slow", pid, ep, &tp, 1), TXN_ERR_PRODUCER_FENCED);
	mk(&b, 1, 1, pid, ep, 1, true);
	CU_ASSERT_EQUAL(engine_append(log, "t", 0, b.data, b.len, &r), -ERR_FENCED);
	CU_ASSERT_EQUAL(lso(log, 0), 2);

	/* an Ongoing transaction at a crash is aborted by the restart */
	CU_ASSERT_EQUAL(txn_init_producer(c, "crash", 60000, -1, -1, NULL, &pid2, &ep2), TXN_OK);
	CU_ASSERT_EQUAL(txn_add_partitions(c, "crash", pid2, ep2, &tp, 1), TXN_OK);
	mk(&b, 0, 2, pid2, ep2, 0, true);
	CU_ASSERT_EQUAL(append(log, 0, &b), 2);
	CU_ASSERT_EQUAL(lso(log, 0), 2);
	txn_coord_free(c);
	engine_close(log);

	log = open_log(ENGINE_FSYNC_ALWAYS);
	CU_ASSERT_EQUAL(lso(log, 0), 2); /* rebuilt from the log: still open */
	c = open_coord(log, NULL, NULL);
	CU_ASSERT_EQUAL(settled(c, "crash"), TXN_COMPLETE_ABORT);
	CU_ASSERT_EQUAL(txn_describe(c, "crash", &ti), 0);
	CU_ASSERT_EQUAL(ti.epoch, ep2 + 1);
	CU_ASSERT_EQUAL(lso(log, 0), 5);
	CU_ASSERT_EQUAL(engine_aborted_txns(log, "t", 0, 0, 100, ab, 4), 2);
	CU_ASSERT_EQUAL(ab[1].producer_id, pid2);
	CU_ASSERT_EQUAL(ab[1].first_offset, 2);
	/* the id keeps its producer id: a new instance gets the next epoch */
	CU_ASSERT_EQUAL(txn_init_producer(c, "crash", 60000, -1, -1, NULL, &pid, &ep), TXN_OK);
	CU_ASSERT_EQUAL(pid, pid2);
	CU_ASSERT_EQUAL(ep, ep2 + 2);
	txn_coord_free(c);
	engine_close(log);
	buf_release(&b);
}

/* A journal whose last record of an id is PrepareCommit (a crash between
 * the prepare and the markers): the restart writes the markers and applies
 * the offsets. */
static void test_recover_prepare_commit(void)
{
	struct txn_offset off = {.group = "g", .topic = "t", .partition = 1, .offset = 7};
	struct txn_entry *e = mem_calloc(1, sizeof(*e));
	struct applied ap = {0};
	struct engine *log;
	struct txn_coord *c;
	struct txn_log jl;
	struct buf b;

	fresh();
	buf_init(&b, 0);
	log = open_log(ENGINE_FSYNC_ALWAYS);
	engine_set_txn_check(log, allow_all, NULL);
	mk(&b, 0, 2, 5, 3, 0, true);
	CU_ASSERT_EQUAL(append(log, 0, &b), 0);
	CU_ASSERT_EQUAL(lso(log, 0), 0);
	CU_ASSERT_EQUAL_FATAL(txn_log_open(&jl, metadir, NULL, NULL), 0);
	e->tid = mem_strdup("pc");
	e->pid = 5;
	e->epoch = 3;
	e->timeout_ms = 60000;
	e->state = TXN_PREPARE_COMMIT;
	CU_ASSERT_EQUAL(txn_entry_add_part(e, "t", 0), 1);
	CU_ASSERT_EQUAL(txn_entry_add_group(e, "g"), 1);
	CU_ASSERT_EQUAL(txn_entry_add_offset(e, &off), 0);
	CU_ASSERT_EQUAL(txn_log_write(&jl, e, true), 0);
	txn_log_close(&jl);
	txn_entry_free(e);

	c = open_coord(log, apply, &ap);
	CU_ASSERT_EQUAL(settled(c, "pc"), TXN_COMPLETE_COMMIT);
	CU_ASSERT_EQUAL(ap.n, 1);
	CU_ASSERT_EQUAL(ap.last, 7);
	CU_ASSERT_EQUAL(lso(log, 0), 3);
	txn_coord_free(c);
	/* settled for good: a second restart applies nothing again */
	ap.n = 0;
	c = open_coord(log, apply, &ap);
	CU_ASSERT_EQUAL(state_of(c, "pc"), TXN_COMPLETE_COMMIT);
	CU_ASSERT_EQUAL(ap.n, 0);
	txn_coord_free(c);
	engine_close(log);
	buf_release(&b);
}

static int keep(void *arg, struct txn_entry *e)
{
	struct txn_entry **last = arg;

	txn_entry_free(*last);
	*last = e;
	return 0;
}

static void test_journal_format(void)
{
	struct txn_offset o1 = {.group = "g1", .topic = "a", .partition = 3, .offset = 9};
	struct txn_offset o2 = {.group = "g1",
				.topic = "a",
				.partition = 3,
				.offset = 11,
				.leader_epoch = 2,
				.metadata = "m"};
	struct txn_entry e = {
		.tid = "id", .pid = 12, .epoch = 4, .timeout_ms = 5000, .state = TXN_ONGOING};
	struct txn_entry *d, *last = NULL;
	struct txn_log jl;
	char path[400];
	struct buf b;
	int fd;

	fresh();
	CU_ASSERT_EQUAL_FATAL(fs_mkdirs(metadir, 0755), 0);
	buf_init(&b, 0);
	CU_ASSERT_EQUAL(txn_entry_add_part(&e, "a", 3), 1);
	CU_ASSERT_EQUAL(txn_entry_add_part(&e, "a", 3), 0);
	CU_ASSERT_EQUAL(txn_entry_add_group(&e, "g1"), 1);
	CU_ASSERT_EQUAL(txn_entry_add_offset(&e, &o1), 0);
	CU_ASSERT_EQUAL(txn_entry_add_offset(&e, &o2), 0); /* replaces */
	CU_ASSERT_EQUAL(e.noffs, 1);
	CU_ASSERT_EQUAL(txn_log_encode(&e, &b), 0);
	d = txn_log_decode(b.data, b.len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_STRING_EQUAL(d->tid, "id");
	CU_ASSERT_EQUAL(d->pid, 12);
	CU_ASSERT_EQUAL(d->epoch, 4);
	CU_ASSERT_EQUAL(d->state, TXN_ONGOING);
	CU_ASSERT_EQUAL(d->nparts, 1);
	CU_ASSERT_EQUAL(d->ngroups, 1);
	CU_ASSERT_EQUAL_FATAL(d->noffs, 1);
	CU_ASSERT_EQUAL(d->offs[0].offset, 11);
	CU_ASSERT_STRING_EQUAL(d->offs[0].metadata, "m");
	txn_entry_free(d);
	for (size_t cut = 0; cut < b.len; cut++) /* every truncation is refused */
		CU_ASSERT_PTR_NULL(txn_log_decode(b.data, cut));

	/* two records, then a torn third: replay keeps two and cuts the tail */
	CU_ASSERT_EQUAL_FATAL(txn_log_open(&jl, metadir, keep, &last), 0);
	CU_ASSERT_EQUAL(txn_log_write(&jl, &e, true), 0);
	e.epoch = 5;
	CU_ASSERT_EQUAL(txn_log_write(&jl, &e, true), 0);
	txn_log_close(&jl);
	snprintf(path, sizeof(path), "%s/%s", metadir, TXN_FILE);
	fd = open(path, O_WRONLY | O_APPEND);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL(write(fd, "\0\0\0\x20garbage", 11), 11);
	close(fd);
	CU_ASSERT_EQUAL_FATAL(txn_log_open(&jl, metadir, keep, &last), 0);
	CU_ASSERT_EQUAL(jl.records, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(last);
	CU_ASSERT_EQUAL(last->epoch, 5);
	txn_log_close(&jl);
	txn_entry_free(last);
	txn_entry_reset(&e);
	mem_free(e.parts);
	mem_free(e.groups);
	mem_free(e.offs);
	buf_release(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_engine_lso_and_aborted), UNIT_TEST(test_commit_abort_fencing),
		UNIT_TEST(test_timeout_and_restart),    UNIT_TEST(test_recover_prepare_commit),
		UNIT_TEST(test_journal_format),         UNIT_END,
	};

	return unit_run("txn", tests);
}
