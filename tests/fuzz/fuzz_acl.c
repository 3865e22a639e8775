/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the auth files an operator writes — auth.acl_file
 * (first byte even) and auth.users_file (odd).  Any bytes parse or fail
 * cleanly; an accepted ACL answers lookups; an accepted users file formats
 * to text that parses again to the same number of users.
 */
#include <stdint.h>
#include <string.h>

#include "lib/buf.h"
#include "store/auth/acl.h"
#include "store/auth/users.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512];

	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		struct acl *a = NULL;

		if (acl_parse("acl", (const char *)data + 1, size - 1, &a, err, sizeof(err)) == 0) {
			acl_allows(a, "User:alice", ACL_TOPIC, "app.web", ACL_PRODUCE);
			acl_allows(a, "User:ANONYMOUS", ACL_GROUP, NULL, ACL_CONSUME);
			acl_perms(a, "User:x", ACL_CLUSTER, NULL);
		}
		acl_free(a);
	} else {
		struct users *u = NULL, *v = NULL;
		struct buf b;

		buf_init(&b, 64 << 20);
		if (users_parse("users", (const char *)data + 1, size - 1, &u, err, sizeof(err)) ==
		    0) {
			if (users_format(u, &b) != 0 ||
			    users_parse("again", (const char *)b.data, b.len, &v, err,
					sizeof(err)) != 0 ||
			    users_count(v) != users_count(u))
				__builtin_trap(); /* our own output is always well formed */
		}
		users_free(u);
		users_free(v);
		buf_release(&b);
	}
	return 0;
}
