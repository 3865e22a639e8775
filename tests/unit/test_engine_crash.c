/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Crash test: a child process appends numbered batches to two partitions
 * (one idempotent producer each, fsync "always", small segments so rolls
 * happen often) and reports every acknowledged batch and its offset through
 * a pipe; the parent kills it with SIGKILL at a random moment, 50 times.
 * After each kill the parent reopens the log and checks that every
 * acknowledged batch is present exactly once at its acknowledged offset, that
 * batches are contiguous with no duplicate, and that every batch validates.
 * Each new child first re-sends the last few batches (acknowledged or not),
 * which the producer state must recognise as duplicates across the crash.
 * The parent checks a copy of the crashed directory, so every child starts
 * on the state the kill left (no clean-shutdown snapshot in between).
 *
 * SLUICE_CRASH_SEED picks the random schedule (printed), SLUICE_CRASH_RUNS
 * the number of kills.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "lib/clock.h"
#include "lib/log.h"
#include "tests/unit/enginetest.h"
#include "tests/unit/unit.h"

#define PARTS 2
#define RECS 3 /* records per batch: batch k holds seq 3k..3k+2 */
#define MAX_BATCHES 200000
#define RESEND 4

static char datadir[256];
static char livedir[256];
static char checkdir[256];
static int64_t acked[PARTS][MAX_BATCHES]; /* offset of batch k, -1 unknown */
static int64_t first_unacked[PARTS];

struct child_arg {
	struct engine *log;
	int part;
	int fd;
	int64_t from;
};

static void report(int fd, char kind, int part, int64_t k, int64_t off)
{
	char line[96];
	int n = snprintf(line, sizeof(line), "%c %d %lld %lld\n", kind, part, (long long)k,
			 (long long)off);

	/* one write of less than PIPE_BUF bytes: whole lines or nothing */
	if (write(fd, line, (size_t)n) != n)
		_exit(3);
}

static void *child_writer(void *argp)
{
	struct child_arg *a = argp;
	struct buf b;

	buf_init(&b, 0);
	for (int64_t k = a->from; k < MAX_BATCHES; k++) {
		struct engine_append_result r;
		int rc;

		lt_batch(&b, k * RECS, RECS, 1700000000000 + k, 100 + a->part, 0,
			 (int32_t)(k * RECS), (size_t)(k % 7) * 150);
		rc = engine_append(a->log, "crash", a->part, b.data, b.len, &r);
		if (rc == 0)
			rc = engine_wait_visible(a->log, "crash", a->part, r.last_offset, 30000);
		if (rc < 0) {
			report(a->fd, 'E', a->part, k, rc);
			_exit(4);
		}
		report(a->fd, r.duplicate ? 'D' : 'A', a->part, k, r.base_offset);
	}
	buf_release(&b);
	return NULL;
}

static struct engine_config crash_config(void)
{
	struct engine_config c;

	lt_config(&c, datadir, ENGINE_FSYNC_ALWAYS);
	c.defaults.partitions = PARTS;
	c.defaults.segment_bytes = 65536;
	return c;
}

static void child_main(int fd)
{
	struct engine_config c = crash_config();
	struct child_arg args[PARTS];
	pthread_t th[PARTS];
	struct engine *log;

	if (engine_open(&c, &log) < 0)
		_exit(2);
	for (int p = 0; p < PARTS; p++) {
		int64_t from = first_unacked[p] - RESEND;

		args[p] = (struct child_arg){log, p, fd, from < 0 ? 0 : from};
		pthread_create(&th[p], NULL, child_writer, &args[p]);
	}
	for (int p = 0; p < PARTS; p++)
		pthread_join(th[p], NULL);
	_exit(0);
}

/* Read the child's reports; returns false on an 'E' line or a mismatch. */
static bool absorb(const char *text, size_t len)
{
	const char *p = text, *end = text + len;
	bool ok = true;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		char kind;
		int part;
		long long k, off;

		if (!nl)
			break;
		if (sscanf(p, "%c %d %lld %lld", &kind, &part, &k, &off) == 4 && part >= 0 &&
		    part < PARTS && k >= 0 && k < MAX_BATCHES) {
			if (kind == 'E') {
				fprintf(stderr, "child error on partition %d batch %lld: %s\n",
					part, k, err_str((int)off));
				ok = false;
			} else if (acked[part][k] >= 0 && acked[part][k] != off) {
				/* a duplicate must carry the original offset */
				fprintf(stderr,
					"batch %d/%lld acknowledged at %lld, then at %lld\n", part,
					k, (long long)acked[part][k], off);
				ok = false;
			} else {
				acked[part][k] = off;
				if (k + 1 > first_unacked[part])
					first_unacked[part] = k + 1;
			}
		}
		p = nl + 1;
	}
	return ok;
}

struct verify {
	int part;
	int64_t next_k;
	int64_t next_off;
	int errors;
};

static int verify_batch(const uint8_t *p, size_t n, void *arg)
{
	struct verify *v = arg;
	int64_t seqs[RECS + 1];
	struct batch_info bi;
	int k;

	batch_header_parse(p, n, &bi);
	k = lt_seqs(p, n, seqs, RECS + 1);
	if (k != RECS || seqs[0] % RECS != 0 || bi.base_offset != v->next_off) {
		v->errors++;
		return 0;
	}
	for (int i = 1; i < RECS; i++)
		if (seqs[i] != seqs[0] + i)
			v->errors++;
	/* batches in order, each exactly once */
	if (seqs[0] / RECS != v->next_k) {
		fprintf(stderr, "partition %d: batch %lld where %lld was expected\n", v->part,
			(long long)(seqs[0] / RECS), (long long)v->next_k);
		v->errors++;
	}
	if (v->next_k < MAX_BATCHES && acked[v->part][v->next_k] >= 0 &&
	    acked[v->part][v->next_k] != bi.base_offset) {
		fprintf(stderr, "partition %d: batch %lld at %lld, acknowledged at %lld\n", v->part,
			(long long)v->next_k, (long long)bi.base_offset,
			(long long)acked[v->part][v->next_k]);
		v->errors++;
	}
	v->next_k = seqs[0] / RECS + 1;
	v->next_off = batch_last_offset(&bi) + 1;
	return 0;
}

static void test_kill9_fifty_times(void)
{
	const char *env = getenv("SLUICE_CRASH_SEED");
	const char *runs_env = getenv("SLUICE_CRASH_RUNS");
	unsigned seed = env ? (unsigned)strtoul(env, NULL, 10) : (unsigned)time(NULL);
	int runs = runs_env ? (int)strtol(runs_env, NULL, 10) : 50;
	char *tmp = unit_tmpdir();
	int64_t total_acked = 0, total_kills = 0;

	printf("\n  crash test seed %u (SLUICE_CRASH_SEED=%u to repeat)\n", seed, seed);
	snprintf(livedir, sizeof(livedir), "%s/data", tmp);
	snprintf(checkdir, sizeof(checkdir), "%s/check", tmp);
	memset(acked, 0xff, sizeof(acked));
	/* a child can be killed before it ran at all (a busy machine), so the
	 * directory the checks copy exists from the start */
	CU_ASSERT_EQUAL_FATAL(mkdir(livedir, 0755), 0);
	for (int run = 0; run < runs; run++) {
		int fds[2];
		pid_t pid;
		struct buf out;
		uint64_t deadline;
		int status;
		/* mostly short lives (kills during start-up, recovery and the
		 * first appends), sometimes long ones (many rolls) */
		unsigned ms =
			rand_r(&seed) % 4 == 0 ? 150 + rand_r(&seed) % 400 : rand_r(&seed) % 120;

		CU_ASSERT_EQUAL_FATAL(pipe(fds), 0);
		memcpy(datadir, livedir, sizeof(datadir));
		pid = fork();
		CU_ASSERT_FATAL(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child_main(fds[1]);
		}
		close(fds[1]);
		buf_init(&out, 0);
		deadline = clock_mono_ms() + ms;
		while (clock_mono_ms() < deadline) {
			usleep(2000);
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		/* everything the child reported before it died */
		for (;;) {
			ssize_t r;

			if (buf_reserve(&out, 65536) < 0)
				break;
			r = read(fds[0], out.data + out.len, out.cap - out.len);
			if (r <= 0)
				break;
			out.len += (size_t)r;
		}
		close(fds[0]);
		CU_ASSERT(absorb((const char *)out.data, out.len));
		buf_release(&out);
		total_kills++;

		/* recovery: every acknowledged batch exactly once, all valid */
		{
			struct engine_config c;
			struct engine *log;
			char cmd[600];

			lt_rmrf(checkdir);
			snprintf(cmd, sizeof(cmd), "cp -a %s %s", livedir, checkdir);
			CU_ASSERT_EQUAL_FATAL(system(cmd), 0);
			memcpy(datadir, checkdir, sizeof(datadir));
			c = crash_config();

			CU_ASSERT_EQUAL_FATAL(engine_open(&c, &log), 0);
			for (int p = 0; p < PARTS; p++) {
				struct verify v = {p, 0, 0, 0};
				long n = lt_read_all(log, "crash", p, 0, 1 << 18, verify_batch, &v);

				/* no partition yet is fine while nothing was acknowledged in it:
				 * the child was killed before its first append */
				CU_ASSERT(n >= 0 || (n == -ERR_NOT_FOUND && first_unacked[p] == 0));
				CU_ASSERT_EQUAL(v.errors, 0);
				/* nothing acknowledged is missing at the end */
				CU_ASSERT(v.next_k >= first_unacked[p]);
				if (v.errors || v.next_k < first_unacked[p])
					fprintf(stderr,
						"run %d partition %d: %ld batches, next %lld, "
						"acknowledged up to %lld\n",
						run, p, n, (long long)v.next_k,
						(long long)first_unacked[p]);
			}
			engine_close(log);
		}
	}
	for (int p = 0; p < PARTS; p++)
		total_acked += first_unacked[p];
	printf("  %lld kills, %lld batches acknowledged\n", (long long)total_kills,
	       (long long)total_acked);
	CU_ASSERT(total_acked > 100);
	lt_rmrf(tmp);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_kill9_fifty_times),
		UNIT_END,
	};

	log_set_level(LOG_LVL_ERROR);
	return unit_run("log_crash", tests);
}
