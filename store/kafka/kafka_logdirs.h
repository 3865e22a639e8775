/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DescribeLogDirs (key 35, v1-v4): the store's one log directory (the data
 * directory), the on-disk size of each partition asked for (every topic the
 * principal has a grant on when the request names none), and, v4, the file
 * system's total and usable bytes.  Event-loop thread only.
 */
#ifndef SLUICE_STORE_KAFKA_LOGDIRS_H
#define SLUICE_STORE_KAFKA_LOGDIRS_H

struct kafka_req;

void kafka_logdirs_describe_handle(struct kafka_req *r);

#endif
