/* SPDX-License-Identifier: Apache-2.0 */
/* Internals shared by lib/alert_rules.c and lib/alert.c only. */
#ifndef SLUICE_ALERT_INT_H
#define SLUICE_ALERT_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/alert.h"
#include "lib/re_literal.h"

struct alert_rule_conf {
	char *name;
	char *match;
	char *field;
	struct cfg_list group_by;
	char *condition;
	struct cfg_kv labels;
	struct cfg_kv annotations;
};

struct alert_rule {
	struct alert_rule_conf c;
	struct alert_expr expr;
	pcre2_code *re;
	struct re_literal lit;
};

#endif
