/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kafka output with exactly_once: flushes run one transaction at a time
 * (the others wait in eo_head..eo_tail); each transaction holds a flush's
 * records and commits the spool position with them (kafka_txn.h); entries a
 * previous run committed are acknowledged without producing them again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lib/err.h"
#include "plugins/out_kafka/out_kafka.h"

/* exactly_once: the transactional id and the read-back consumer. */
int out_kafka_eo_setup(struct out_kafka *ok, rd_kafka_conf_t *kc, struct cfg_error *err)
{
	char id[256], topic[512];
	const struct flush none = {.topic = ""};
	const char *t = out_kafka_topic_for(ok, &none, NULL, topic, sizeof(topic));
	char why[300];

	if (!ok->topic_static || !t || !*t || strstr(ok->conf->topic, "${topic}")) {
		snprintf(err->msg, sizeof(err->msg),
			 "output %s: exactly_once needs a fixed topic "
			 "(no ${input}, ${host} or ${topic})",
			 ok->id);
		return -ERR_INVALID;
	}
	if (ok->conf->transactional_id && *ok->conf->transactional_id)
		snprintf(id, sizeof(id), "%s", ok->conf->transactional_id);
	else
		snprintf(id, sizeof(id), "sluice.%.120s.%.64s", ok->host, ok->id);
	if (kafka_txn_configure(&ok->txn, kc, id, t, why, sizeof(why)) < 0) {
		snprintf(err->msg, sizeof(err->msg), "output %s: %s", ok->id, why);
		return -ERR_INVALID;
	}
	kafka_txn_reset(&ok->txn);
	return 0;
}

/* Start kf's transaction and hand its records over; its completion comes
 * through kflush_complete() -> eo_finish(). */
static void eo_start(struct out_kafka *ok, struct kflush *kf)
{
	struct flush *f = kf->f;
	uint64_t pos = kafka_txn_position(&ok->txn, f->topic, f->partition);

	ok->eo_current = kf;
	/* committed before a restart: acknowledged without producing */
	while (kf->next_batch < kf->nb && f->batches[kf->next_batch].entry_id <= pos) {
		kf->next_batch++;
		ok->skipped++;
	}
	if (kf->next_batch < kf->nb && kafka_txn_begin(&ok->txn, ok->rk, ok->id) < 0) {
		ok->fatal = true;
		kf->producing = false;
		kf->b[kf->next_batch].failed++;
		kf->b[kf->next_batch].err = RD_KAFKA_RESP_ERR__STATE;
	} else if (kflush_produce(kf) < 0) {
		kf->producing = false;
		kf->b[kf->next_batch].failed++;
		kf->b[kf->next_batch].err = RD_KAFKA_RESP_ERR__BAD_MSG;
	}
	if (!kf->producing && kf->outstanding == 0)
		kflush_complete(kf);
}

/* The next waiting flush, once no transaction is open. */
static void eo_next(struct out_kafka *ok)
{
	while (!ok->eo_current && ok->eo_head) {
		struct kflush *kf = ok->eo_head;

		ok->eo_head = kf->next_eo;
		if (!ok->eo_head)
			ok->eo_tail = NULL;
		kf->next_eo = NULL;
		if (!kf->f) { /* cancelled while waiting */
			kflush_free(kf);
			continue;
		}
		if (ok->fatal) {
			/* the producer is replaced by the next flush() */
			struct flush *f = kf->f;

			kflush_free(kf);
			output_flush_done(ok->output, f, FLUSH_RETRY, 0, "_FATAL",
					  "transactional producer replaced", 0);
			continue;
		}
		eo_start(ok, kf);
	}
}

/* Every record of the transaction has its report: commit it with the
 * spool position, or abort it; either way the whole flush succeeds or is
 * tried again (nothing of an aborted transaction is visible). */
void out_kafka_eo_finish(struct evloop_defer *d)
{
	struct kflush *kf = d->data;
	struct out_kafka *ok = kf->ok;
	struct flush *f = kf->f;
	enum flush_result res = FLUSH_OK;
	size_t bad = kf->nb;
	int rc = 0;

	ok->eo_current = NULL;
	for (size_t i = 0; i < kf->nb && bad == kf->nb; i++)
		if (kf->b[i].failed)
			bad = i;
	if (!f || bad < kf->nb)
		rc = kafka_txn_abort(&ok->txn, ok->rk, ok->id);
	else if (ok->txn.open)
		rc = kafka_txn_commit(&ok->txn, ok->rk, f->topic, f->partition,
				      f->batches[kf->nb - 1].entry_id, ok->id);
	if (rc == -EPIPE)
		ok->fatal = true;
	if (!f) {
		kflush_free(kf);
		eo_next(ok);
		return;
	}
	if (bad < kf->nb)
		/* a batch refused for good is quarantined only when it is the
		 * first: the others were aborted with it and are produced again */
		res = bad == 0 && out_kafka_is_permanent(kf->b[0].err) ? FLUSH_ERROR : FLUSH_RETRY;
	else if (rc < 0)
		res = FLUSH_RETRY;
	if (res == FLUSH_RETRY)
		ok->flushes_retried++;
	{
		rd_kafka_resp_err_t e =
			bad < kf->nb ? kf->b[bad].err : RD_KAFKA_RESP_ERR__TRANSPORT;

		kflush_free(kf);
		output_flush_done(ok->output, f, res, res == FLUSH_OK ? f->nbatches : 0,
				  res == FLUSH_OK ? NULL : rd_kafka_err2name(e),
				  res == FLUSH_OK ? NULL : "transaction aborted", 0);
	}
	eo_next(ok);
}

/* exactly_once flush(): the producer is ready (init + read-back) before a
 * transaction starts; one transaction at a time. */
enum flush_result out_kafka_eo_flush(struct out_kafka *ok, struct kflush *kf)
{
	if (kafka_txn_ready(&ok->txn, ok->rk, ok->id) == -EPIPE)
		ok->fatal = true;
	if (!ok->txn.loaded) {
		kflush_free(kf);
		return FLUSH_RETRY;
	}
	kf->f->plugin_data = kf;
	if (ok->eo_current) {
		if (ok->eo_tail)
			ok->eo_tail->next_eo = kf;
		else
			ok->eo_head = kf;
		ok->eo_tail = kf;
		return FLUSH_ASYNC;
	}
	eo_start(ok, kf);
	return FLUSH_ASYNC;
}
