/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeAcls (key 29), CreateAcls (30) and DeleteAcls (31), v0-v3, over
 * the store's one ACL file (auth.acl_file, store/auth/acl.h), so Kafka's
 * tooling (kafka-acls.sh, AdminClient, kafka-python's admin client) reads
 * and changes the grants the HTTP API enforces too.
 *
 * Mapping (docs/KAFKA.md, "ACL APIs"): a grant line becomes ALLOW bindings
 * on host "*": topic produce -> WRITE, consume -> READ, admin -> ALL; group
 * consume -> READ, admin -> ALL; cluster admin -> ALL on "kafka-cluster".
 * A glob "abc*" is the PREFIXED pattern "abc", a name without wildcards or
 * "*" alone is LITERAL; other globs are listed as LITERAL with the glob
 * text.  CreateAcls appends lines to the file (ALLOW, host "*", operations
 * READ/WRITE/ALL only); DeleteAcls takes the matching permissions off their
 * lines (comments and other lines stay as written).  Both then reload the
 * ACL.  All three need cluster admin (never an anonymous client of a
 * listener without SASL and without an ACL); without auth.acl_file they
 * answer SECURITY_DISABLED.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_ACLS_H
#define SLUICE_STORE_KAFKA_ACLS_H

#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

/* Handlers over the generated structs (kmsg_gen.h). */
void kafka_acls_describe_handle(struct kafka_req *r);
void kafka_acls_create_handle(struct kafka_req *r);
void kafka_acls_delete_handle(struct kafka_req *r);

#endif
