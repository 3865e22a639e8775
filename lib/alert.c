/* SPDX-License-Identifier: Apache-2.0 */
/* Alert evaluation: windows per (rule, group key); see alert.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/alert_int.h"
#include "lib/err.h"
#include "lib/hmap.h"
#include "lib/jdoc.h"
#include "lib/mem.h"

#define NB 60 /* sub-buckets per window */
#define SAMPLE_MAX 512
#define FIELD_MAX 256

struct akey {
	uint64_t hash;
	uint32_t rule;
	char *id; /* group values joined by \x1f */
	char *vals[ALERT_GROUP_MAX];
	int64_t slot[NB];
	uint32_t cnt[NB];
	int64_t last_seen;
	int64_t starts_at;
	int64_t user;
	bool firing;
	char (*samples)[SAMPLE_MAX + 1]; /* ring of ALERT_SAMPLES, one allocation */
	uint8_t sample_at;               /* the newest */
	uint8_t nsamples;
	char *topic;
};

/* The rules' required literals searched together: one pass over the line
 * hashes the four bytes at each position into a bit filter that holds the
 * first four bytes of every literal, and only positions whose bit is set
 * are compared with the literals of that hash.  A line costs about one
 * filter lookup per byte whatever the number of rules, instead of a
 * memmem() per rule; four bytes rather than two so that common pairs
 * ("re", "th") of the literals do not make every line a candidate. */
#define LI_BITS 20    /* 2^20-bit filter: 128 KiB, stays in L2 */
#define LI_HEADS 4096 /* chains by the hash's low bits (memcmp decides) */

struct lit_index {
	uint8_t bits[(1u << LI_BITS) / 8];
	uint32_t *head;   /* per hash: first rule + 1 in the chain, 0 = none */
	uint32_t *next;   /* per rule: next rule + 1 with the same pair */
	bool *cand;       /* per rule: literal seen in this line */
	bool *indexed;    /* per rule: decided by the index */
	size_t count;     /* rules in the index */
	uint32_t *always; /* rules not in the index */
	size_t nalways;
	uint32_t *clist; /* candidates of this line */
	size_t ncand;
};

struct alert_engine {
	const struct alert_rules *rules;
	struct lit_index li;
	struct akey *keys;
	size_t nkeys, max_keys;
	uint32_t *index; /* key index + 1, 0 = empty */
	size_t index_cap;
	pcre2_match_data *md;
	struct jdoc *doc; /* the current event's JSON, parsed on demand */
	bool doc_tried;
	char fbuf[ALERT_GROUP_MAX + 1][FIELD_MAX];
	struct alert_engine_stats st;
};

static inline unsigned li_hash(const char *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return (unsigned)((v * 2654435761u) >> (32 - LI_BITS));
}

static int lit_index_init(struct lit_index *li, const struct alert_rules *r)
{
	li->head = mem_calloc(LI_HEADS, sizeof(uint32_t));
	li->next = mem_calloc(r->n + 1, sizeof(uint32_t));
	li->cand = mem_calloc(r->n + 1, sizeof(bool));
	li->indexed = mem_calloc(r->n + 1, sizeof(bool));
	li->always = mem_calloc(r->n + 1, sizeof(uint32_t));
	li->clist = mem_calloc(r->n + 1, sizeof(uint32_t));
	if (!li->head || !li->next || !li->cand || !li->indexed || !li->always || !li->clist)
		return -ENOMEM;
	for (size_t i = 0; i < r->n; i++) {
		const struct alert_rule *ru = &r->v[i];
		unsigned pair;

		/* a rule on a field matches decoded text, not the raw line */
		if (!ru->re || ru->lit.n < 4 || (ru->c.field && *ru->c.field)) {
			li->always[li->nalways++] = (uint32_t)i;
			continue;
		}
		pair = li_hash(ru->lit.s);
		li->bits[pair >> 3] |= (uint8_t)(1u << (pair & 7));
		li->next[i] = li->head[pair % LI_HEADS];
		li->head[pair % LI_HEADS] = (uint32_t)i + 1;
		li->indexed[i] = true;
		li->count++;
	}
	return 0;
}

static void lit_index_release(struct lit_index *li)
{
	mem_free(li->head);
	mem_free(li->next);
	mem_free(li->cand);
	mem_free(li->indexed);
	mem_free(li->always);
	mem_free(li->clist);
}

/* Mark the rules whose literal occurs in p[0..n). */
static void lit_index_scan(struct lit_index *li, const struct alert_rules *r, const char *p,
			   size_t n)
{
	const uint8_t *u = (const uint8_t *)p;

	for (size_t i = 0; i < li->ncand; i++)
		li->cand[li->clist[i]] = false;
	li->ncand = 0;
	if (!li->count)
		return;
	(void)u;
	for (size_t i = 0; i + 3 < n; i++) {
		unsigned pair = li_hash(p + i);

		if (!(li->bits[pair >> 3] & (1u << (pair & 7))))
			continue;
		for (uint32_t k = li->head[pair % LI_HEADS]; k; k = li->next[k - 1]) {
			const struct re_literal *l = &r->v[k - 1].lit;

			if (!li->cand[k - 1] && l->n <= n - i && !memcmp(p + i, l->s, l->n)) {
				li->cand[k - 1] = true;
				li->clist[li->ncand++] = k - 1;
			}
		}
	}
}

struct alert_engine *alert_engine_new(const struct alert_rules *r, size_t max_keys)
{
	struct alert_engine *e = mem_calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->rules = r;
	e->max_keys = max_keys ? max_keys : 10000;
	e->index_cap = 16;
	while (e->index_cap < e->max_keys * 2)
		e->index_cap *= 2;
	e->keys = mem_calloc(e->max_keys, sizeof(*e->keys));
	e->index = mem_calloc(e->index_cap, sizeof(*e->index));
	e->md = pcre2_match_data_create(1, NULL);
	if (!e->keys || !e->index || !e->md || lit_index_init(&e->li, r) < 0) {
		alert_engine_free(e);
		return NULL;
	}
	return e;
}

void alert_engine_free(struct alert_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nkeys; i++) {
		struct akey *k = &e->keys[i];

		mem_free(k->id);
		for (size_t j = 0; j < ALERT_GROUP_MAX; j++)
			mem_free(k->vals[j]);
		mem_free(k->samples);
		mem_free(k->topic);
	}
	lit_index_release(&e->li);
	mem_free(e->keys);
	mem_free(e->index);
	pcre2_match_data_free(e->md);
	jdoc_free(e->doc);
	mem_free(e);
}

/* ------------------------------------------------------------ events */

/* The value of name for ev: a header (the last of that name), else a
 * top-level JSON member. */
static bool field_of(struct alert_engine *e, const struct alert_event *ev, const char *name,
		     char *out, size_t cap, const char **p, size_t *n)
{
	size_t nl = strlen(name);
	const struct jnode *j;

	/* the last of repeated headers: a record the kafka input read carries
	 * the consumer's host/path/input first and the original ones after */
	for (size_t i = ev->nhdrs; i-- > 0;) {
		const struct record_header *h = &ev->hdrs[i];

		if ((size_t)h->key_len == nl && !memcmp(h->key, name, nl) && h->value_len >= 0) {
			*p = (const char *)h->value;
			*n = (size_t)h->value_len;
			return true;
		}
	}
	if (!e->doc_tried) {
		e->doc_tried = true;
		if (ev->len && ev->value[0] == '{' &&
		    jdoc_parse(ev->value, ev->len, &e->doc, NULL) < 0)
			e->doc = NULL;
	}
	j = e->doc ? jnode_get(jdoc_root(e->doc), name) : NULL;
	if (!j)
		return false;
	if (j->type == JSTR) {
		*p = j->s;
		*n = j->len;
	} else if (j->type == JNUM && j->is_int) {
		*n = (size_t)snprintf(out, cap, "%" PRId64, j->i);
		*p = out;
	} else if (j->type == JNUM) {
		*n = (size_t)snprintf(out, cap, "%.9g", j->num);
		*p = out;
	} else if (j->type == JBOOL) {
		*p = j->b ? "true" : "false";
		*n = strlen(*p);
	} else {
		return false;
	}
	return true;
}

static bool rule_matches(struct alert_engine *e, size_t ri, const struct alert_event *ev)
{
	const struct alert_rule *r = &e->rules->v[ri];
	const char *p = ev->value;
	size_t n = ev->len;

	if (!r->re)
		return true;
	if (e->li.indexed[ri]) /* a candidate: its literal occurs */
		return pcre2_match(r->re, (PCRE2_SPTR)p, n, 0, 0, e->md, NULL) >= 0;
	if (r->c.field && *r->c.field &&
	    !field_of(e, ev, r->c.field, e->fbuf[ALERT_GROUP_MAX], FIELD_MAX, &p, &n))
		return false;
	if (!re_literal_may_match(&r->lit, p, n)) {
		e->st.prefiltered++;
		return false;
	}
	return pcre2_match(r->re, (PCRE2_SPTR)p, n, 0, 0, e->md, NULL) >= 0;
}

static uint64_t key_hash(uint32_t rule, const char *id)
{
	return hmap_hash(rule, id, strlen(id));
}

static struct akey *key_find(struct alert_engine *e, uint32_t rule, const char *id, bool create)
{
	uint64_t h = key_hash(rule, id);
	size_t mask = e->index_cap - 1, i = (size_t)h & mask;
	struct akey *k;

	for (; e->index[i]; i = (i + 1) & mask) {
		k = &e->keys[e->index[i] - 1];
		if (k->hash == h && k->rule == rule && !strcmp(k->id, id))
			return k;
	}
	if (!create)
		return NULL;
	if (e->nkeys == e->max_keys) {
		e->st.overflow++;
		return NULL;
	}
	k = &e->keys[e->nkeys];
	memset(k, 0, sizeof(*k));
	k->id = mem_strdup(id);
	if (!k->id)
		return NULL;
	k->hash = h;
	k->rule = rule;
	for (size_t j = 0; j < NB; j++)
		k->slot[j] = INT64_MIN;
	e->index[i] = (uint32_t)++e->nkeys;
	e->st.keys = e->nkeys;
	return k;
}

/* Split k->id into its group values (once). */
static int key_vals(struct akey *k, size_t ngroup)
{
	const char *p = k->id;

	for (size_t j = 0; j < ngroup; j++) {
		const char *q = strchr(p, '\x1f');
		size_t n = q ? (size_t)(q - p) : strlen(p);

		if (!k->vals[j]) {
			k->vals[j] = mem_alloc(n + 1);
			if (!k->vals[j])
				return -ENOMEM;
			memcpy(k->vals[j], p, n);
			k->vals[j][n] = '\0';
		}
		p = q ? q + 1 : p + n;
	}
	return 0;
}

static void add_sample(struct akey *k, const struct alert_event *ev)
{
	size_t n = ev->len < SAMPLE_MAX ? ev->len : SAMPLE_MAX;
	char *s;

	if (!k->samples) {
		k->samples = mem_alloc(ALERT_SAMPLES * sizeof(*k->samples));
		if (!k->samples)
			return;
	}
	k->sample_at = (uint8_t)((k->sample_at + 1) % ALERT_SAMPLES);
	if (k->nsamples < ALERT_SAMPLES)
		k->nsamples++;
	s = k->samples[k->sample_at];
	memcpy(s, ev->value, n);
	s[n] = '\0';
	if (!k->topic && ev->topic)
		k->topic = mem_strdup(ev->topic);
}

static void count_in(struct akey *k, const struct alert_rule *r, int64_t ts)
{
	int64_t width = r->expr.window_ms / NB;
	int64_t slot = ts / (width > 0 ? width : 1);
	size_t i = (size_t)(slot % NB + NB) % NB;

	if (k->slot[i] != slot) {
		if (k->slot[i] > slot)
			return; /* older than the window the bucket holds now */
		k->slot[i] = slot;
		k->cnt[i] = 0;
	}
	k->cnt[i]++;
}

/* The key id of ev for rule r into buf. */
static int build_id(struct alert_engine *e, const struct alert_rule *r,
		    const struct alert_event *ev, char *buf, size_t cap)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t g = 0; g < r->c.group_by.n; g++) {
		const char *p = "";
		size_t n = 0;

		if (!field_of(e, ev, r->c.group_by.v[g], e->fbuf[g], FIELD_MAX, &p, &n))
			n = 0;
		if (used + n + 2 > cap)
			return -ERR_TOO_LARGE;
		if (g)
			buf[used++] = '\x1f';
		for (size_t i = 0; i < n; i++)
			buf[used++] = p[i] == '\x1f' ? ' ' : p[i];
		buf[used] = '\0';
	}
	return 0;
}

void alert_engine_feed(struct alert_engine *e, const struct alert_event *ev)
{
	char id[ALERT_GROUP_MAX * FIELD_MAX + ALERT_GROUP_MAX];

	e->doc_tried = false;
	jdoc_free(e->doc);
	e->doc = NULL;
	lit_index_scan(&e->li, e->rules, ev->value, ev->len);
	/* the rules the index cannot decide, then those whose literal occurs:
	 * the others cannot match and are not looked at */
	e->st.prefiltered += e->li.count - e->li.ncand;
	for (size_t j = 0; j < e->li.nalways + e->li.ncand; j++) {
		size_t i = j < e->li.nalways ? e->li.always[j] : e->li.clist[j - e->li.nalways];
		const struct alert_rule *r = &e->rules->v[i];
		struct akey *k;

		if (!rule_matches(e, i, ev) || build_id(e, r, ev, id, sizeof(id)) < 0)
			continue;
		k = key_find(e, (uint32_t)i, id, true);
		if (!k)
			continue;
		e->st.matched++;
		count_in(k, r, ev->ts);
		if (ev->ts > k->last_seen)
			k->last_seen = ev->ts;
		add_sample(k, ev);
	}
}

/* ------------------------------------------------------------ evaluation */

static uint64_t window_count(const struct akey *k, const struct alert_rule *r, int64_t now)
{
	int64_t width = r->expr.window_ms / NB;
	int64_t cur = now / (width > 0 ? width : 1);
	uint64_t c = 0;

	for (size_t i = 0; i < NB; i++)
		if (k->slot[i] > cur - NB && k->slot[i] <= cur)
			c += k->cnt[i];
	return c;
}

static void view_of(const struct alert_engine *e, struct akey *k, uint64_t count,
		    struct alert_view *v)
{
	const struct alert_rule *r = &e->rules->v[k->rule];

	memset(v, 0, sizeof(*v));
	key_vals(k, r->c.group_by.n);
	v->rule = k->rule;
	v->name = r->c.name;
	v->ngroup = r->c.group_by.n;
	v->group_keys = (const char *const *)r->c.group_by.v;
	v->group_vals = (const char *const *)k->vals;
	v->count = count;
	v->starts_at = k->starts_at;
	v->last_seen = k->last_seen;
	for (size_t j = 0; j < k->nsamples; j++)
		v->samples[j] = k->samples[(k->sample_at + ALERT_SAMPLES - j) % ALERT_SAMPLES];
	v->topic = k->topic;
}

void alert_engine_eval(struct alert_engine *e, int64_t now, alert_change_fn cb, void *arg)
{
	e->st.firing = 0;
	for (size_t i = 0; i < e->nkeys; i++) {
		struct akey *k = &e->keys[i];
		const struct alert_rule *r = &e->rules->v[k->rule];
		uint64_t c = window_count(k, r, now);
		bool holds;
		struct alert_view v;

		if (r->expr.kind == ALERT_ABSENCE)
			holds = k->last_seen && now - k->last_seen >= r->expr.window_ms;
		else
			holds = alert_expr_holds(&r->expr, c);
		if (holds && !k->firing) {
			k->firing = true;
			k->starts_at = now;
			k->user = 0;
			view_of(e, k, c, &v);
			if (cb)
				cb(arg, &v, ALERT_FIRING);
		} else if (!holds && k->firing) {
			k->firing = false;
			view_of(e, k, c, &v);
			v.ends_at = now;
			if (cb)
				cb(arg, &v, ALERT_RESOLVED);
		}
		e->st.firing += k->firing;
	}
}

void alert_engine_each(struct alert_engine *e, alert_each_fn cb, void *arg)
{
	for (size_t i = 0; i < e->nkeys; i++) {
		struct akey *k = &e->keys[i];
		struct alert_view v;

		if (!k->firing)
			continue;
		view_of(e, k, window_count(k, &e->rules->v[k->rule], k->last_seen), &v);
		cb(arg, &v, &k->user);
	}
}

void alert_engine_stats(const struct alert_engine *e, struct alert_engine_stats *st)
{
	*st = e->st;
}

/* ------------------------------------------------------------ state */

/* A token: percent-escaped, "-" for empty. */
static int put_tok(struct buf *b, const char *s)
{
	int rc = 0;

	if (!s || !*s)
		return buf_append_str(b, "- ");
	for (; *s && !rc; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '%' || c == '-' || c >= 0x7f)
			rc = buf_printf(b, "%%%02X", c);
		else
			rc = buf_append_u8(b, c);
	}
	return rc ? rc : buf_append_u8(b, ' ');
}

int alert_engine_save(const struct alert_engine *e, struct buf *out)
{
	int rc = 0;

	for (size_t i = 0; i < e->nkeys && !rc; i++) {
		const struct akey *k = &e->keys[i];

		rc = buf_append_str(out, "K ");
		rc = rc ? rc : put_tok(out, e->rules->v[k->rule].c.name);
		rc = rc ? rc : put_tok(out, k->id);
		rc = rc ? rc : put_tok(out, k->topic);
		rc = rc ? rc
			: buf_printf(out, "%" PRId64 " %d %" PRId64 " %" PRId64, k->last_seen,
				     k->firing, k->starts_at, k->user);
		for (size_t j = 0; j < NB && !rc; j++)
			if (k->slot[j] != INT64_MIN)
				rc = buf_printf(out, " %" PRId64 ":%" PRIu32, k->slot[j],
						k->cnt[j]);
		rc = rc ? rc : buf_append_u8(out, '\n');
	}
	return rc;
}

/* Next token of [*p, end) decoded into out; -1 at the end or bad. */
static int get_tok(const char **p, const char *end, char *out, size_t cap)
{
	size_t n = 0;

	while (*p < end && **p == ' ')
		(*p)++;
	if (*p >= end || **p == '\n')
		return -1;
	if (**p == '-' && (*p + 1 == end || (*p)[1] == ' ' || (*p)[1] == '\n')) {
		(*p)++;
		out[0] = '\0';
		return 0;
	}
	while (*p < end && **p != ' ' && **p != '\n') {
		char c = **p;

		if (c == '%') {
			unsigned v;

			if (end - *p < 3 || sscanf(*p + 1, "%2x", &v) != 1)
				return -1;
			c = (char)v;
			*p += 2;
		}
		if (n + 1 >= cap)
			return -1;
		out[n++] = c;
		(*p)++;
	}
	out[n] = '\0';
	return 0;
}

static bool load_line(struct alert_engine *e, const char *p, const char *end)
{
	char name[256], id[ALERT_GROUP_MAX * FIELD_MAX + ALERT_GROUP_MAX], topic[256], num[64];
	int64_t v[4];
	size_t rule = SIZE_MAX;
	struct akey *k;

	if (end - p < 2 || p[0] != 'K' || p[1] != ' ')
		return false;
	p += 2;
	if (get_tok(&p, end, name, sizeof(name)) < 0 || get_tok(&p, end, id, sizeof(id)) < 0 ||
	    get_tok(&p, end, topic, sizeof(topic)) < 0)
		return false;
	for (size_t i = 0; i < 4; i++) {
		char *q;

		if (get_tok(&p, end, num, sizeof(num)) < 0)
			return false;
		v[i] = strtoll(num, &q, 10);
		if (*q)
			return false;
	}
	for (size_t i = 0; i < e->rules->n; i++)
		if (!strcmp(e->rules->v[i].c.name, name))
			rule = i;
	if (rule == SIZE_MAX)
		return false;
	k = key_find(e, (uint32_t)rule, id, true);
	if (!k)
		return false;
	k->last_seen = v[0];
	k->firing = v[1] != 0;
	k->starts_at = v[2];
	k->user = v[3];
	if (*topic && !k->topic)
		k->topic = mem_strdup(topic);
	while (get_tok(&p, end, num, sizeof(num)) == 0) {
		int64_t slot;
		unsigned cnt;

		if (sscanf(num, "%" SCNd64 ":%u", &slot, &cnt) != 2)
			break;
		k->slot[(size_t)(slot % NB + NB) % NB] = slot;
		k->cnt[(size_t)(slot % NB + NB) % NB] = cnt;
	}
	return true;
}

size_t alert_engine_load(struct alert_engine *e, const char *p, size_t n)
{
	const char *end;
	size_t loaded = 0;

	if (!p || !n)
		return 0;
	end = p + n;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;

		loaded += load_line(e, p, le);
		p = nl ? nl + 1 : end;
	}
	return loaded;
}
