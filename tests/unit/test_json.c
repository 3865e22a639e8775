/* SPDX-License-Identifier: Apache-2.0 */
/* JSON string escaping, UTF-8 validation, base64. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"
#include "tests/unit/unit.h"

static void expect_str(const void *in, size_t n, const char *want)
{
	struct buf b;

	buf_init(&b, 0);
	CU_ASSERT_EQUAL(json_str(&b, in, n), 0);
	buf_cstr(&b);
	if (strcmp((char *)b.data, want) != 0) {
		fprintf(stderr, "got %s want %s\n", (char *)b.data, want);
		CU_FAIL("json_str");
	}
	buf_release(&b);
}

static void test_escaping(void)
{
	expect_str("plain", 5, "\"plain\"");
	expect_str("a\"b\\c", 5, "\"a\\\"b\\\\c\"");
	expect_str("tab\tnl\ncr\r", 10, "\"tab\\tnl\\ncr\\r\"");
	expect_str("\x01\x1f", 2, "\"\\u0001\\u001f\"");
	expect_str("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 14,
		   "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
	expect_str("bad\xff!", 5, "\"bad\xef\xbf\xbd!\"");
	expect_str("\xc3", 1, "\"\xef\xbf\xbd\"");
	expect_str("nul\0x", 5, "\"nul\\u0000x\"");
}

static void test_utf8(void)
{
	CU_ASSERT(utf8_valid("hello", 5));
	CU_ASSERT(utf8_valid("\xc3\xa9", 2));
	CU_ASSERT(!utf8_valid("\xc0\xaf", 2));         /* overlong */
	CU_ASSERT(!utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
	CU_ASSERT(!utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
	CU_ASSERT(!utf8_valid("\xe2\x82", 2));         /* truncated */
	CU_ASSERT(utf8_valid("", 0));
}

static void test_base64(void)
{
	static const struct {
		const char *in, *out;
	} v[] = {
		{"", ""},
		{"f", "Zg=="},
		{"fo", "Zm8="},
		{"foo", "Zm9v"},
		{"foob", "Zm9vYg=="},
		{"fooba", "Zm9vYmE="},
		{"foobar", "Zm9vYmFy"},
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct buf e, d;

		buf_init(&e, 0);
		buf_init(&d, 0);
		CU_ASSERT_EQUAL(base64_encode(&e, v[i].in, strlen(v[i].in)), 0);
		CU_ASSERT_EQUAL(e.len, strlen(v[i].out));
		CU_ASSERT(e.len == 0 || memcmp(e.data, v[i].out, e.len) == 0);
		CU_ASSERT_EQUAL(base64_decode(&d, v[i].out, strlen(v[i].out)), 0);
		CU_ASSERT_EQUAL(d.len, strlen(v[i].in));
		CU_ASSERT(d.len == 0 || memcmp(d.data, v[i].in, d.len) == 0);
		buf_release(&e);
		buf_release(&d);
	}
	{
		struct buf d;

		buf_init(&d, 0);
		CU_ASSERT(base64_decode(&d, "Zm9", 3) < 0);
		CU_ASSERT(base64_decode(&d, "Zm!v", 4) < 0);
		buf_release(&d);
	}
}

static void test_keys(void)
{
	struct buf b;
	bool first = true;

	buf_init(&b, 0);
	buf_append_u8(&b, '{');
	json_key(&b, &first, "a");
	json_i64(&b, -5);
	json_key(&b, &first, "b");
	json_cstr(&b, "x");
	buf_append_u8(&b, '}');
	buf_cstr(&b);
	CU_ASSERT_STRING_EQUAL((char *)b.data, "{\"a\":-5,\"b\":\"x\"}");
	buf_release(&b);
}

/* The escaper a byte at a time, as the JSON grammar says; the word-at-a-time
 * json_str() must agree with it on every input. */
static void ref_escape(struct buf *o, const uint8_t *p, size_t n)
{
	buf_append_u8(o, '"');
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		char t[8];

		if (c == '"' || c == '\\') {
			t[0] = '\\';
			t[1] = (char)c;
			buf_append(o, t, 2);
		} else if (c < 0x20) {
			snprintf(t, sizeof(t), "\\u%04x", c);
			if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f') {
				t[1] = c == '\n'   ? 'n'
				       : c == '\r' ? 'r'
				       : c == '\t' ? 't'
				       : c == '\b' ? 'b'
						   : 'f';
				buf_append(o, t, 2);
			} else {
				buf_append(o, t, 6);
			}
		} else {
			buf_append_u8(o, c);
		}
	}
	buf_append_u8(o, '"');
}

static void test_escaping_words(void)
{
	static const uint8_t special[] = {'"', '\\', '\n', 0x00, 0x1f, 0x7f, 0x20, 'a'};
	uint32_t seed = 12345;
	struct buf got, want;

	buf_init(&got, 0);
	buf_init(&want, 0);
	/* ASCII strings of every length up to 40 with one or two special bytes
	 * at every position (word boundaries included), and random ones */
	for (size_t n = 0; n <= 40; n++) {
		for (size_t pos = 0; pos <= n; pos++) {
			for (size_t k = 0; k < sizeof(special); k++) {
				uint8_t s[48];

				for (size_t i = 0; i < n; i++) {
					seed = seed * 1103515245u + 12345u;
					s[i] = (uint8_t)(0x20 + (seed >> 16) % 95);
				}
				if (pos < n)
					s[pos] = special[k];
				if (n > 1)
					s[n - 1 - pos % n] = special[(k + 3) % sizeof(special)];
				got.len = want.len = 0;
				CU_ASSERT_EQUAL(json_str(&got, s, n), 0);
				ref_escape(&want, s, n);
				CU_ASSERT_EQUAL(got.len, want.len);
				if (got.len == want.len)
					CU_ASSERT(memcmp(got.data, want.data, got.len) == 0);
				CU_ASSERT_EQUAL(utf8_valid(s, n), true);
			}
		}
	}
	/* a buffer whose max cannot take the worst case (6 bytes per byte) goes
	 * run by run: the same bytes as the direct path, and a refusal for what
	 * does not fit at all */
	{
		static const uint8_t s[] = "say \"hi\"\n\tto\\ \xc3\xa9 \xff end";
		struct buf small;

		got.len = 0;
		CU_ASSERT_EQUAL(json_str(&got, s, sizeof(s) - 1), 0);
		buf_init(&small, got.len);
		CU_ASSERT(got.len < 6 * (sizeof(s) - 1) + 2);
		CU_ASSERT_EQUAL(json_str(&small, s, sizeof(s) - 1), 0);
		CU_ASSERT_EQUAL(small.len, got.len);
		CU_ASSERT(small.len == got.len && memcmp(small.data, got.data, got.len) == 0);
		buf_release(&small);
		buf_init(&small, 8);
		CU_ASSERT(json_str(&small, s, sizeof(s) - 1) < 0);
		buf_release(&small);
	}
	/* a high byte anywhere in an otherwise ASCII word: not valid alone */
	for (size_t pos = 0; pos < 24; pos++) {
		uint8_t s[24];

		memset(s, 'x', sizeof(s));
		s[pos] = 0xff;
		CU_ASSERT_EQUAL(utf8_valid(s, sizeof(s)), false);
		s[pos] = 0xc3;
		if (pos + 1 < sizeof(s)) {
			s[pos + 1] = 0xa9; /* é */
			CU_ASSERT_EQUAL(utf8_valid(s, sizeof(s)), true);
			got.len = 0;
			CU_ASSERT_EQUAL(json_str(&got, s, sizeof(s)), 0);
			CU_ASSERT_EQUAL(got.len, sizeof(s) + 2);
		}
	}
	buf_release(&got);
	buf_release(&want);
}

/* The escaper a byte at a time with UTF-8: a sequence is kept when
 * utf8_valid() takes it alone, else its lead byte becomes U+FFFD. */
static void ref_escape_utf8(struct buf *o, const uint8_t *p, size_t n)
{
	buf_append_u8(o, '"');
	for (size_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t k = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

		if (c < 0x80) {
			struct buf one;

			buf_init(&one, 0);
			ref_escape(&one, p + i, 1);
			buf_append(o, one.data + 1, one.len - 2); /* without its quotes */
			buf_release(&one);
			i++;
		} else if (c >= 0xc2 && i + k <= n && utf8_valid(p + i, k)) {
			buf_append(o, p + i, k);
			i += k;
		} else {
			buf_append(o, "\xef\xbf\xbd", 3);
			i++;
		}
	}
	buf_append_u8(o, '"');
}

/* json_str() on s against the reference, against its run-by-run path (a
 * buffer too small for the direct path's reservation) and json_text()
 * against both: the same bytes when s is UTF-8, 1 and nothing when not. */
static void check_all_paths(const uint8_t *s, size_t n)
{
	struct buf got, want, small;
	bool valid = utf8_valid(s, n);

	buf_init(&got, 0);
	buf_init(&want, 0);
	buf_append(&got, "x", 1); /* not at the start of the buffer */
	CU_ASSERT_EQUAL(json_str(&got, s, n), 0);
	ref_escape_utf8(&want, s, n);
	CU_ASSERT_EQUAL(got.len - 1, want.len);
	CU_ASSERT(got.len - 1 == want.len && memcmp(got.data + 1, want.data, want.len) == 0);
	buf_init(&small, want.len);
	CU_ASSERT(want.len < 6 * n + 18);
	CU_ASSERT_EQUAL(json_str(&small, s, n), 0);
	CU_ASSERT(small.len == want.len && memcmp(small.data, want.data, want.len) == 0);
	small.len = 0;
	CU_ASSERT_EQUAL(json_text(&small, s, n), valid ? 0 : 1);
	CU_ASSERT_EQUAL(small.len, valid ? want.len : 0);
	got.len = 1;
	CU_ASSERT_EQUAL(json_text(&got, s, n), valid ? 0 : 1);
	CU_ASSERT_EQUAL(got.len, valid ? want.len + 1 : 1);
	if (valid)
		CU_ASSERT(memcmp(got.data + 1, want.data, want.len) == 0);
	buf_release(&small);
	buf_release(&got);
	buf_release(&want);
}

static void test_escaping_blocks(void)
{
	/* bytes that stop a 16-byte block, UTF-8 whole, cut and invalid */
	static const char *const pieces[] = {"\"",
					     "\\",
					     "\n",
					     "\t",
					     "\r",
					     "\b",
					     "\f",
					     "\x01",
					     "\x1f",
					     "\x7f",
					     "\xc3\xa9",
					     "\xe2\x82\xac",
					     "\xf0\x9f\x98\x80",
					     "\xc3",
					     "\xe2\x82",
					     "\xf0\x9f\x98",
					     "\xff",
					     "\xc0\xaf",
					     "\xed\xa0\x80",
					     "\xf4\x90\x80\x80",
					     "\x80",
					     "\0"};
	uint32_t seed = 777;

	/* each piece at every offset around the 16- and 32-byte boundaries, in
	 * plain text of every length up to 70 */
	for (size_t n = 0; n <= 70; n++) {
		for (size_t k = 0; k < sizeof(pieces) / sizeof(pieces[0]); k++) {
			size_t pl =
				k == sizeof(pieces) / sizeof(pieces[0]) - 1 ? 1 : strlen(pieces[k]);

			for (size_t pos = 0; pos + pl <= n; pos++) {
				uint8_t s[80];

				if (pos > 3 && pos + 4 < n && (pos < 12 || pos > 36) &&
				    pos != n - pl - 1)
					continue; /* the middle of a block: covered by its ends */
				memset(s, 'a', n);
				memcpy(s + pos, pieces[k], pl);
				check_all_paths(s, n);
			}
		}
	}
	/* random bytes, and random mixes of the pieces */
	for (int round = 0; round < 3000; round++) {
		uint8_t s[100];
		size_t n = 0, want;

		seed = seed * 1103515245u + 12345u;
		want = (seed >> 16) % 90;
		while (n < want) {
			seed = seed * 1103515245u + 12345u;
			if (round % 2 == 0) {
				s[n++] = (uint8_t)(seed >> 16);
			} else if ((seed >> 16) % 3 == 0) {
				const char *p = pieces[(seed >> 18) % 21];
				size_t pl = strlen(p);

				if (n + pl > sizeof(s))
					break;
				memcpy(s + n, p, pl);
				n += pl;
			} else {
				s[n++] = (uint8_t)(0x20 + (seed >> 16) % 95);
			}
		}
		check_all_paths(s, n);
	}
	/* every byte of whole blocks escaped: the largest expansion (6 bytes a
	 * byte, the reservation's worst case) and blocks of two-byte escapes */
	for (size_t n = 15; n <= 49; n++) {
		uint8_t s[49];

		memset(s, 0x01, n);
		check_all_paths(s, n);
		memset(s, '"', n);
		check_all_paths(s, n);
		for (size_t i = 0; i < n; i++)
			s[i] = i % 3 == 0 ? '\\' : i % 3 == 1 ? '\x1f' : 'q';
		check_all_paths(s, n);
	}
	/* long: a run of many blocks then an escape, and a long UTF-8 text */
	{
		static uint8_t s[4099];

		memset(s, 'z', sizeof(s));
		s[4096] = '"';
		check_all_paths(s, sizeof(s));
		for (size_t i = 0; i + 2 <= sizeof(s); i += 2)
			memcpy(s + i, "\xc3\xa9", 2);
		check_all_paths(s, sizeof(s) - 1);
		check_all_paths(s, sizeof(s) - 2);
	}
}

static void test_i64(void)
{
	static const int64_t v[] = {0, 1, -1, 9, 10, -10, 1234567890123LL, INT64_MAX, INT64_MIN};
	struct buf b;
	char want[32];

	buf_init(&b, 0);
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		b.len = 0;
		CU_ASSERT_EQUAL(json_i64(&b, v[i]), 0);
		snprintf(want, sizeof(want), "%" PRId64, v[i]);
		CU_ASSERT_EQUAL(b.len, strlen(want));
		CU_ASSERT(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
	}
	buf_release(&b);
}

int main(void)
{
	static const struct unit_test tests[] = {
		UNIT_TEST(test_escaping),
		UNIT_TEST(test_utf8),
		UNIT_TEST(test_base64),
		UNIT_TEST(test_keys),
		UNIT_TEST(test_escaping_words),
		UNIT_TEST(test_escaping_blocks),
		UNIT_TEST(test_i64),
		UNIT_END,
	};

	return unit_run("json", tests);
}
