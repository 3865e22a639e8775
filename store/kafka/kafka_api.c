/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API table, request headers and the engine-to-Kafka error mapping.
 *
 * Versions advertised here are exactly the ones the decoders and encoders
 * implement; docs/KAFKA.md lists them with what each client uses.
 */
#include <stdint.h>
#include <string.h>

#include "lib/err.h"
#include "store/kafka/kafka_api.h"
#include "store/kafka/kafka_acls.h"
#include "store/kafka/kafka_admin.h"
#include "store/kafka/kafka_configs.h"
#include "store/kafka/kafka_delgroups.h"
#include "store/kafka/kafka_fetch.h"
#include "store/kafka/kafka_groups.h"
#include "store/kafka/kafka_listoffsets.h"
#include "store/kafka/kafka_logdirs.h"
#include "store/kafka/kafka_meta.h"
#include "store/kafka/kafka_offsets.h"
#include "store/kafka/kafka_produce.h"
#include "store/kafka/kafka_records.h"
#include "store/kafka/kafka_sasl.h"
#include "store/kafka/kafka_scram.h"
#include "store/kafka/kafka_txn.h"
#include "store/kafka/kmsg_gen.h"

/* {key, min, max, first flexible, name, decode, handle} for APIs with
 * hand-written codecs ("first flexible" is the schema's, so a version at or
 * above it would need the compact forms); KAFKA_API_MSG(...) for APIs on the
 * schema framework.  The positional entries leave req/resp NULL; the
 * warning about that is off for the table until every entry is converted. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct kafka_api api_table[] = {
	KAFKA_API_MSG(KAFKA_PRODUCE, 3, 11, "Produce", kafka_produce_handle, produce),
	KAFKA_API_MSG(KAFKA_FETCH, 4, 16, "Fetch", kafka_fetch_handle, fetch),
	KAFKA_API_MSG(KAFKA_LIST_OFFSETS, 1, 8, "ListOffsets", kafka_listoffsets_handle,
		      list_offsets),
	KAFKA_API_MSG(KAFKA_METADATA, 0, 12, "Metadata", kafka_meta_metadata_handle, metadata),
	KAFKA_API_MSG(KAFKA_OFFSET_COMMIT, 2, 9, "OffsetCommit", kafka_offsets_commit_handle,
		      offset_commit),
	KAFKA_API_MSG(KAFKA_OFFSET_FETCH, 1, 9, "OffsetFetch", kafka_offsets_fetch_handle,
		      offset_fetch),
	KAFKA_API_MSG(KAFKA_FIND_COORDINATOR, 0, 5, "FindCoordinator",
		      kafka_groups_findcoordinator_handle, find_coordinator),
	KAFKA_API_MSG(KAFKA_JOIN_GROUP, 0, 9, "JoinGroup", kafka_groups_join_handle, join_group),
	KAFKA_API_MSG(KAFKA_HEARTBEAT, 0, 4, "Heartbeat", kafka_groups_heartbeat_handle, heartbeat),
	KAFKA_API_MSG(KAFKA_LEAVE_GROUP, 0, 5, "LeaveGroup", kafka_groups_leave_handle,
		      leave_group),
	KAFKA_API_MSG(KAFKA_SYNC_GROUP, 0, 5, "SyncGroup", kafka_groups_sync_handle, sync_group),
	KAFKA_API_MSG(KAFKA_DESCRIBE_GROUPS, 0, 5, "DescribeGroups", kafka_groups_describe_handle,
		      describe_groups),
	KAFKA_API_MSG(KAFKA_LIST_GROUPS, 0, 5, "ListGroups", kafka_groups_list_handle, list_groups),
	KAFKA_API_MSG(KAFKA_SASL_HANDSHAKE, 0, 1, "SaslHandshake", kafka_sasl_handshake_handle,
		      sasl_handshake),
	KAFKA_API_MSG(KAFKA_API_VERSIONS, 0, 4, "ApiVersions", kafka_meta_apiversions_handle,
		      api_versions),
	KAFKA_API_MSG(KAFKA_CREATE_TOPICS, 0, 7, "CreateTopics", kafka_admin_createtopics_handle,
		      create_topics),
	KAFKA_API_MSG(KAFKA_DELETE_TOPICS, 0, 6, "DeleteTopics", kafka_admin_deletetopics_handle,
		      delete_topics),
	KAFKA_API_MSG(KAFKA_INIT_PRODUCER_ID, 0, 5, "InitProducerId",
		      kafka_txn_initproducerid_handle, init_producer_id),
	KAFKA_API_MSG(KAFKA_ADD_PARTITIONS_TO_TXN, 0, 3, "AddPartitionsToTxn",
		      kafka_txn_addpartitions_handle, add_partitions_to_txn),
	KAFKA_API_MSG(KAFKA_ADD_OFFSETS_TO_TXN, 0, 3, "AddOffsetsToTxn",
		      kafka_txn_addoffsets_handle, add_offsets_to_txn),
	KAFKA_API_MSG(KAFKA_END_TXN, 0, 3, "EndTxn", kafka_txn_endtxn_handle, end_txn),
	KAFKA_API_MSG(KAFKA_TXN_OFFSET_COMMIT, 0, 3, "TxnOffsetCommit",
		      kafka_txn_offsetcommit_handle, txn_offset_commit),
	KAFKA_API_MSG(KAFKA_DESCRIBE_ACLS, 0, 3, "DescribeAcls", kafka_acls_describe_handle,
		      describe_acls),
	KAFKA_API_MSG(KAFKA_CREATE_ACLS, 0, 3, "CreateAcls", kafka_acls_create_handle, create_acls),
	KAFKA_API_MSG(KAFKA_DELETE_ACLS, 0, 3, "DeleteAcls", kafka_acls_delete_handle, delete_acls),
	KAFKA_API_MSG(KAFKA_DESCRIBE_CONFIGS, 1, 4, "DescribeConfigs",
		      kafka_configs_describe_handle, describe_configs),
	KAFKA_API_MSG(KAFKA_ALTER_CONFIGS, 0, 2, "AlterConfigs", kafka_configs_alter_handle,
		      alter_configs),
	KAFKA_API_MSG(KAFKA_DESCRIBE_LOG_DIRS, 1, 4, "DescribeLogDirs",
		      kafka_logdirs_describe_handle, describe_log_dirs),
	{KAFKA_SASL_AUTHENTICATE, 0, 2, 0, "SaslAuthenticate", kafka_sasl_authenticate_decode,
	 kafka_sasl_authenticate_handle, &kmsg_sasl_authenticate_req_msg,
	 &kmsg_sasl_authenticate_resp_msg},
	KAFKA_API_MSG(KAFKA_DELETE_GROUPS, 0, 2, "DeleteGroups", kafka_delgroups_handle,
		      delete_groups),
	KAFKA_API_MSG(KAFKA_OFFSET_DELETE, 0, 0, "OffsetDelete", kafka_delgroups_offsets_handle,
		      offset_delete),
	KAFKA_API_MSG(KAFKA_CREATE_PARTITIONS, 0, 3, "CreatePartitions",
		      kafka_admin_createpartitions_handle, create_partitions),
	KAFKA_API_MSG(KAFKA_INCREMENTAL_ALTER_CONFIGS, 0, 1, "IncrementalAlterConfigs",
		      kafka_configs_incremental_handle, incremental_alter_configs),
	KAFKA_API_MSG(KAFKA_DESCRIBE_USER_SCRAM, 0, 0, "DescribeUserScramCredentials",
		      kafka_scram_describe_handle, describe_user_scram_credentials),
	KAFKA_API_MSG(KAFKA_ALTER_USER_SCRAM, 0, 0, "AlterUserScramCredentials",
		      kafka_scram_alter_handle, alter_user_scram_credentials),
	KAFKA_API_MSG(KAFKA_DESCRIBE_CLUSTER, 0, 1, "DescribeCluster",
		      kafka_meta_describecluster_handle, describe_cluster),
	KAFKA_API_MSG(KAFKA_DELETE_RECORDS, 0, 2, "DeleteRecords", kafka_records_delete_handle,
		      delete_records),
	KAFKA_API_MSG(KAFKA_OFFSET_FOR_LEADER_EPOCH, 2, 4, "OffsetForLeaderEpoch",
		      kafka_records_epoch_handle, offset_for_leader_epoch),
	KAFKA_API_MSG(KAFKA_DESCRIBE_PRODUCERS, 0, 0, "DescribeProducers",
		      kafka_records_producers_handle, describe_producers),
};
#pragma GCC diagnostic pop

#define API_COUNT (sizeof(api_table) / sizeof(api_table[0]))

const struct kafka_api *kafka_api_table(size_t *n)
{
	*n = API_COUNT;
	return api_table;
}

int kafka_api_index(int16_t key)
{
	for (size_t i = 0; i < API_COUNT; i++)
		if (api_table[i].key == key)
			return (int)i;
	return -1;
}

const struct kafka_api *kafka_api_find(int16_t key)
{
	int i = kafka_api_index(key);

	return i < 0 ? NULL : &api_table[i];
}

const char *kafka_api_name(int16_t key)
{
	const struct kafka_api *a = kafka_api_find(key);

	return a ? a->name : "Unknown";
}

int kafka_api_parse_header(const uint8_t *p, size_t n, struct arena *a, struct kafka_hdr *h)
{
	const struct kafka_api *api;
	struct kwire_dec d;

	memset(h, 0, sizeof(*h));
	kwire_dec_init(&d, p, n, false, a);
	h->api_key = kwire_get_i16(&d);
	h->api_version = kwire_get_i16(&d);
	h->correlation_id = kwire_get_i32(&d);
	if (!kwire_dec_ok(&d))
		return -ERR_CORRUPT;
	api = kafka_api_find(h->api_key);
	if (!api || h->api_version < api->min || h->api_version > api->max)
		return -ERR_UNSUPPORTED;
	h->flex = h->api_version >= kafka_api_flex_min(api);
	/* header v1/v2: client_id is a classic nullable string in both */
	h->client_id = kwire_get_nstr(&d);
	if (h->flex) {
		d.flex = true;
		kwire_get_tags(&d);
	}
	if (!kwire_dec_ok(&d))
		return -ERR_CORRUPT;
	h->body_off = n - kwire_dec_left(&d);
	return 0;
}

size_t kafka_api_arena_bound(size_t n)
{
	size_t extra = n * 24;

	if (extra > ((size_t)16 << 20))
		extra = (size_t)16 << 20;
	return n * 8 + 65536 + extra;
}

void *kafka_api_decode_body(struct kafka_hdr *h, const uint8_t *p, size_t n, struct arena *a)
{
	const struct kafka_api *api = kafka_api_find(h->api_key);
	struct kwire_dec d;
	void *body;

	if (!api || h->body_off > n)
		return NULL;
	kwire_dec_init(&d, p + h->body_off, n - h->body_off, h->flex, a);
	/* a framework entry may keep a decoder for framings outside the schema
	 * (SaslAuthenticate's bare tokens); it hands real versions to kschema */
	if (api->decode)
		body = api->decode(&d, h->api_version);
	else
		body = kschema_decode(api->req, h->api_version, &d);
	if (!body || !kwire_dec_ok(&d))
		return NULL;
	/* Kafka's brokers read what the schema says and ignore the rest, and
	 * clients rely on it: so do we (counted) */
	h->trailing = kwire_dec_left(&d);
	return body;
}

int16_t kafka_api_error(int rc)
{
	switch (rc) {
	case 0:
		return KERR_NONE;
	case -ERR_NOT_FOUND:
		return KERR_UNKNOWN_TOPIC_OR_PARTITION;
	case -ERR_INVALID:
		return KERR_INVALID_TOPIC_EXCEPTION;
	case -ERR_EXISTS:
		return KERR_TOPIC_ALREADY_EXISTS;
	case -ERR_CORRUPT:
	case -ERR_TRUNCATED:
		return KERR_CORRUPT_MESSAGE;
	case -ERR_TOO_LARGE:
		return KERR_MESSAGE_TOO_LARGE;
	case -ERR_OUT_OF_RANGE:
		return KERR_OFFSET_OUT_OF_RANGE;
	case -ERR_OUT_OF_ORDER:
		return KERR_OUT_OF_ORDER_SEQUENCE_NUMBER;
	case -ERR_DUPLICATE:
		return KERR_DUPLICATE_SEQUENCE_NUMBER;
	case -ERR_FENCED:
		return KERR_INVALID_PRODUCER_EPOCH;
	case -ERR_TXN_STATE:
		return KERR_INVALID_TXN_STATE;
	case -ERR_UNSUPPORTED:
		return KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT;
	case -ERR_STORAGE:
	case -EIO:
	case -ENOSPC:
	case -EDQUOT:
	case -EROFS:
		return KERR_KAFKA_STORAGE_ERROR;
	case -ETIMEDOUT:
		return KERR_REQUEST_TIMED_OUT;
	default:
		return KERR_UNKNOWN_SERVER_ERROR;
	}
}
