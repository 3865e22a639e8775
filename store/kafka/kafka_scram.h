/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeUserScramCredentials (key 50, v0) and AlterUserScramCredentials
 * (key 51, v0): Kafka's own way to manage SCRAM users (kafka-configs.sh
 * --alter --add-config 'SCRAM-SHA-512=[password=...]'), on the same
 * auth.users_file that `sluice-store user add` writes.  Both are flexible
 * versions only.  They need `cluster admin` in the ACL (without an ACL file,
 * any SASL-authenticated principal; on a listener without SASL and without
 * an ACL, nobody).  Alter writes the file (atomically, 0600)
 * before answering; the change applies to the next authentication.
 * Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_SCRAM_H
#define SLUICE_STORE_KAFKA_SCRAM_H

#include <stdint.h>

#include "store/kafka/kwire.h"

struct kafka_req;

/* Handlers over the generated structs (kmsg_gen.h). */
void kafka_scram_describe_handle(struct kafka_req *r);
void kafka_scram_alter_handle(struct kafka_req *r);

#endif
