/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The group coordinator's protocol bookkeeping, free of state-machine
 * logic: copying and comparing a member's (name, metadata) protocol list,
 * Kafka's protocol selection by member votes, and new member ids.  Split
 * from store/groups/groups.c, which calls these through groups_int.h.
 */
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "lib/clock.h"
#include "lib/err.h"
#include "lib/mem.h"
#include "store/groups/groups.h"
#include "store/groups/groups_int.h"

void groups_protos_free(struct gmember *m)
{
	for (int32_t i = 0; i < m->nprotos; i++) {
		mem_free(m->protos[i].name);
		mem_free(m->protos[i].meta);
	}
	mem_free(m->protos);
	m->protos = NULL;
	m->nprotos = 0;
}

int groups_protos_copy(struct gmember *m, const struct groups_join_req *req)
{
	struct gproto *v = mem_calloc((size_t)req->nprotocols, sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (int32_t i = 0; i < req->nprotocols; i++) {
		const struct groups_protocol *p = &req->protocols[i];

		v[i].name = mem_strdup(p->name);
		v[i].len = p->len > 0 ? p->len : 0;
		v[i].meta = mem_alloc(v[i].len ? (size_t)v[i].len : 1);
		if (!v[i].name || !v[i].meta) {
			for (int32_t j = 0; j <= i; j++) {
				mem_free(v[j].name);
				mem_free(v[j].meta);
			}
			mem_free(v);
			return -ENOMEM;
		}
		if (v[i].len)
			memcpy(v[i].meta, p->metadata, (size_t)v[i].len);
	}
	groups_protos_free(m);
	m->protos = v;
	m->nprotos = req->nprotocols;
	return 0;
}

bool groups_protos_equal(const struct gmember *m, const struct groups_join_req *req)
{
	if (m->nprotos != req->nprotocols)
		return false;
	for (int32_t i = 0; i < m->nprotos; i++) {
		const struct groups_protocol *p = &req->protocols[i];
		int32_t len = p->len > 0 ? p->len : 0;

		if (strcmp(m->protos[i].name, p->name) != 0 || m->protos[i].len != len ||
		    (len && memcmp(m->protos[i].meta, p->metadata, (size_t)len) != 0))
			return false;
	}
	return true;
}

const struct gproto *groups_member_proto(const struct gmember *m, const char *name)
{
	for (int32_t i = 0; name && i < m->nprotos; i++)
		if (strcmp(m->protos[i].name, name) == 0)
			return &m->protos[i];
	return NULL;
}

/* "<client.id>-<uuid4>", as Kafka names members. */
char *groups_new_member_id(const char *client_id)
{
	uint8_t r[16];
	char *id;
	size_t n;

	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		uint64_t t = clock_mono_ns();

		for (size_t i = 0; i < sizeof(r); i++)
			r[i] ^= (uint8_t)(t >> (8 * (i % 8))) ^ (uint8_t)i;
	}
	r[6] = (r[6] & 0x0f) | 0x40;
	r[8] = (r[8] & 0x3f) | 0x80;
	n = strlen(client_id) + 38;
	id = mem_alloc(n);
	if (!id)
		return NULL;
	snprintf(id, n, "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 client_id, r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10],
		 r[11], r[12], r[13], r[14], r[15]);
	return id;
}

static bool supported_by_all(const struct group *grp, const char *name)
{
	for (const struct gmember *m = grp->members; m; m = m->next)
		if (!groups_member_proto(m, name))
			return false;
	return true;
}

/* Kafka's choice: among the protocols every member supports, each member
 * votes for the first in its own preference order; most votes wins, ties
 * going to the leader's order. */
const char *groups_select_protocol(const struct group *grp)
{
	const struct gmember *lead = grp->leader ? grp->leader : grp->members;
	const char *best = NULL;
	int best_votes = -1;

	for (int32_t i = 0; lead && i < lead->nprotos; i++) {
		const char *cand = lead->protos[i].name;
		int votes = 0;

		if (!supported_by_all(grp, cand))
			continue;
		for (const struct gmember *m = grp->members; m; m = m->next) {
			for (int32_t k = 0; k < m->nprotos; k++) {
				if (supported_by_all(grp, m->protos[k].name)) {
					votes += strcmp(m->protos[k].name, cand) == 0;
					break;
				}
			}
		}
		if (votes > best_votes) {
			best = cand;
			best_votes = votes;
		}
	}
	return best;
}
