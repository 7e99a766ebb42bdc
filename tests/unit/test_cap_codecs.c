/* test_cap_codecs.c - CUnit suite for capture's codecs: column values, binary JSON, CRC-32, GTID sets, statement kinds. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "cap_int.h"
#include "banned.h"

/* ---- value decoding ---- */

static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = 0;

	for (; h[0] && h[1]; h += 2) {
		unsigned x;

		sscanf(h, "%2x", &x);
		out[n++] = (uint8_t)x;
	}
	return n;
}

struct vcase {
	Sluice__ColumnDef c;
	uint8_t raw[128];
	size_t n, used;
	Sluice__Value v;
	struct sl_buf scratch;
	struct sl_err err;
	int rc;
};

static void vdecode(struct vcase *t, uint32_t type, uint32_t meta, const char *hex)
{
	sluice__column_def__init(&t->c);
	t->c.name = (char *)"c";
	t->c.type = type;
	t->c.meta = meta;
	t->c.collation = 45;
	t->n = unhex(hex, t->raw);
	sluice__value__init(&t->v);
	sl_buf_init(&t->scratch, 1 << 20);
	t->err = (struct sl_err)SL_ERR_INIT;
	t->rc = cap_value_decode(&t->c, t->raw, t->n, &t->used, &t->v, &t->scratch, &t->err);
}

static void vredo(struct vcase *t)
{
	sl_buf_reset(&t->scratch);
	t->rc = cap_value_decode(&t->c, t->raw, t->n, &t->used, &t->v, &t->scratch, &t->err);
}

/* The value decoded to kind k with text s, using every byte given. */
static void expect_text(struct vcase *t, int k, const char *s)
{
	CU_ASSERT_EQUAL(t->rc, 0);
	CU_ASSERT_EQUAL(t->used, t->n);
	CU_ASSERT_EQUAL(t->v.kind, k);
	CU_ASSERT_EQUAL(t->v.b.len, strlen(s));
	if (t->v.b.len == strlen(s))
		CU_ASSERT(memcmp(t->v.b.data, s, t->v.b.len) == 0);
	if (t->v.b.len != strlen(s) || memcmp(t->v.b.data, s, t->v.b.len) != 0)
		fprintf(stderr, "\n  got '%.*s', want '%s'\n", (int)t->v.b.len, t->v.b.data, s);
	sl_buf_release(&t->scratch);
}

static void test_cap_codecs__decimal(void)
{
	struct vcase t;

	vdecode(&t, 246, 10 << 8 | 2, "7fffff84d2");
	expect_text(&t, SLUICE__VALUE__KIND__DECIMAL, "-123.45");
	vdecode(&t, 246, 10 << 8 | 2, "8000000005");
	expect_text(&t, SLUICE__VALUE__KIND__DECIMAL, "0.05");
	vdecode(&t, 246, 5 << 8 | 0, "81869f");
	expect_text(&t, SLUICE__VALUE__KIND__DECIMAL, "99999");
	vdecode(&t, 246, 65 << 8 | 30, "7f439eb1ca484078caf1cb3fd0f8a086f8a432eaff439eb1ca484078fc84");
	expect_text(&t, SLUICE__VALUE__KIND__DECIMAL,
		    "-12345678901234567890123456789012345.123456789012345678901234567891");
	vdecode(&t, 246, 65 << 8 | 30, "85f5e0ff3b9ac9ff3b9ac9ff3b9ac9ff3b9ac9ff3b9ac9ff3b9ac9ff03e7");
	expect_text(&t, SLUICE__VALUE__KIND__DECIMAL,
		    "99999999999999999999999999999999999.999999999999999999999999999999");
	/* one byte short: an error, never a read past the end */
	vdecode(&t, 246, 65 << 8 | 30, "85f5e0ff3b9ac9ff3b9ac9ff3b9ac9ff3b9ac9ff3b9ac9ff3b9ac9ff03");
	CU_ASSERT(t.rc < 0);
	CU_ASSERT(strstr(t.err.msg, "column 'c'") != NULL);
	sl_buf_release(&t.scratch);
	/* digits out of range are corrupt */
	vdecode(&t, 246, 5 << 8 | 0, "ffffff");
	CU_ASSERT(t.rc < 0);
	sl_buf_release(&t.scratch);
}

static void test_cap_codecs__time2(void)
{
	struct vcase t;

	vdecode(&t, 19, 0, "4b9105");
	expect_text(&t, SLUICE__VALUE__KIND__TIME, "-838:59:59");
	vdecode(&t, 19, 6, "7ffffeffffff");
	expect_text(&t, SLUICE__VALUE__KIND__TIME, "-00:00:01.000001");
	vdecode(&t, 19, 3, "7fef7cee6c");
	expect_text(&t, SLUICE__VALUE__KIND__TIME, "-01:02:03.450");
	vdecode(&t, 19, 3, "80c8b81ed2");
	expect_text(&t, SLUICE__VALUE__KIND__TIME, "12:34:56.789");
	vdecode(&t, 19, 1, "7fffffce");
	expect_text(&t, SLUICE__VALUE__KIND__TIME, "-00:00:00.5");
}

static void test_cap_codecs__datetime2_timestamp2(void)
{
	struct vcase t;

	vdecode(&t, 18, 2, "996442000001");
	expect_text(&t, SLUICE__VALUE__KIND__DATETIME, "2000-01-01 00:00:00.01");
	vdecode(&t, 18, 6, "fef3ff7efb0f423f");
	expect_text(&t, SLUICE__VALUE__KIND__DATETIME, "9999-12-31 23:59:59.999999");
	vdecode(&t, 18, 0, "8000000000");
	expect_text(&t, SLUICE__VALUE__KIND__DATETIME, "0000-00-00 00:00:00");
	vdecode(&t, 17, 6, "7fffffff01e240");
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(t.used, 7);
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__TIMESTAMP);
	CU_ASSERT_EQUAL(t.v.i, 2147483647);
	CU_ASSERT_EQUAL(t.v.usec, 123456);
	sl_buf_release(&t.scratch);
	vdecode(&t, 17, 0, "00000000");
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(t.v.i, 0);
	CU_ASSERT_EQUAL(t.v.usec, 0);
	sl_buf_release(&t.scratch);
	vdecode(&t, 17, 3, "5e0b6b8a03e8");	/* .100 stored as 1000 (2 bytes, x100) */
	CU_ASSERT_EQUAL(t.v.usec, 100000);
	sl_buf_release(&t.scratch);
	/* DATE, YEAR, old TIME and DATETIME */
	vdecode(&t, 10, 0, "5dd00f");
	expect_text(&t, SLUICE__VALUE__KIND__DATE, "2024-02-29");
	vdecode(&t, 13, 0, "7c");
	CU_ASSERT_EQUAL(t.v.u, 2024);
	sl_buf_release(&t.scratch);
	vdecode(&t, 11, 0, "25d8ff");	/* -(1*10000 + 2*100 + 3) as int24 */
	expect_text(&t, SLUICE__VALUE__KIND__TIME, "-01:02:03");
	vdecode(&t, 12, 0, "457c178468120000");	/* 20240102030405 */
	expect_text(&t, SLUICE__VALUE__KIND__DATETIME, "2024-01-02 03:04:05");
}

static void test_cap_codecs__ints_bit(void)
{
	struct vcase t;

	vdecode(&t, 9, 0, "000080");
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__INT);
	CU_ASSERT_EQUAL(t.v.i, -8388608);
	t.c.is_unsigned = 1;
	vredo(&t);
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__UINT);
	CU_ASSERT_EQUAL(t.v.u, 8388608);
	sl_buf_release(&t.scratch);
	vdecode(&t, 8, 0, "ffffffffffffffff");
	CU_ASSERT_EQUAL(t.v.i, -1);
	sl_buf_release(&t.scratch);
	/* BIT(13): meta = bytes << 8 | bits */
	vdecode(&t, 16, 1 << 8 | 5, "1001");
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(t.used, 2);
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__BIT);
	CU_ASSERT_EQUAL(t.v.u, 4097);
	sl_buf_release(&t.scratch);
	vdecode(&t, 16, 8 << 8 | 0, "ffffffffffffffff");
	CU_ASSERT_EQUAL(t.v.u, UINT64_MAX);
	sl_buf_release(&t.scratch);
	vdecode(&t, 16, 1, "01");
	CU_ASSERT_EQUAL(t.v.u, 1);
	CU_ASSERT_EQUAL(t.used, 1);
	sl_buf_release(&t.scratch);
	/* FLOAT / DOUBLE */
	vdecode(&t, 4, 4, "0000c03f");
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__FLOAT);
	CU_ASSERT_DOUBLE_EQUAL(t.v.f, 1.5, 1e-9);
	sl_buf_release(&t.scratch);
	vdecode(&t, 5, 8, "00000000000002c0");
	CU_ASSERT_DOUBLE_EQUAL(t.v.d, -2.25, 1e-12);
	sl_buf_release(&t.scratch);
}

static void test_cap_codecs__enum_set(void)
{
	ProtobufCBinaryData labels[3] = { { 1, (uint8_t *)"x" }, { 2, (uint8_t *)"yy" },
					  { 3, (uint8_t *)"zzz" } };
	struct vcase t;

	/* SET stored as STRING (254) with real type 248 and 1 byte in meta */
	vdecode(&t, 254, 248 << 8 | 1, "05");
	t.c.enum_values = labels;
	t.c.n_enum_values = 3;
	vredo(&t);
	CU_ASSERT_TRUE(t.v.has_b);
	CU_ASSERT_EQUAL(t.v.u, 5);
	expect_text(&t, SLUICE__VALUE__KIND__SET, "x,zzz");
	vdecode(&t, 254, 247 << 8 | 1, "02");
	t.c.enum_values = labels;
	t.c.n_enum_values = 3;
	vredo(&t);
	CU_ASSERT_EQUAL(t.v.u, 2);
	expect_text(&t, SLUICE__VALUE__KIND__ENUM, "yy");
	/* 2-byte ENUM index without labels: index only */
	vdecode(&t, 254, 247 << 8 | 2, "0301");
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(t.used, 2);
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__ENUM);
	CU_ASSERT_EQUAL(t.v.u, 0x103);
	CU_ASSERT_FALSE(t.v.has_b);
	sl_buf_release(&t.scratch);
	/* 8-byte SET */
	vdecode(&t, 254, 248 << 8 | 8, "0100000000000080");
	CU_ASSERT_EQUAL(t.v.u, 0x8000000000000001ull);
	sl_buf_release(&t.scratch);
}

static void test_cap_codecs__strings_blobs(void)
{
	struct vcase t;
	uint8_t big[300 + 2];

	/* CHAR(255) utf8mb4 = 1020 bytes: meta 0xCEFC borrows bits of the type,
	 * so the length takes 2 bytes */
	vdecode(&t, 254, 0xCEFC, "0300616263");
	expect_text(&t, SLUICE__VALUE__KIND__STRING, "abc");
	/* CHAR(10) latin1: 1-byte length */
	vdecode(&t, 254, 0xFE0A, "03616263");
	expect_text(&t, SLUICE__VALUE__KIND__STRING, "abc");
	/* BINARY(4): collation 63 gives BYTES */
	vdecode(&t, 254, 0xFE04, "0401020304");
	t.c.collation = 63;
	vredo(&t);
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__BYTES);
	CU_ASSERT_EQUAL(t.v.b.len, 4);
	sl_buf_release(&t.scratch);
	/* BINARY(4), UUID (16), INET6 (16): the binlog drops trailing 0x00
	 * bytes; the value is padded back to the column's length */
	vdecode(&t, 254, 0xFE04, "01ab");
	t.c.collation = 63;
	vredo(&t);
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(t.used, 2);
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__BYTES);
	CU_ASSERT_EQUAL_FATAL(t.v.b.len, 4);
	CU_ASSERT(memcmp(t.v.b.data, "\xab\0\0\0", 4) == 0);
	t.n = unhex("00", t.raw);	/* all zeros: an empty value in the binlog */
	vredo(&t);
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL_FATAL(t.v.b.len, 4);
	CU_ASSERT(memcmp(t.v.b.data, "\0\0\0\0", 4) == 0);
	t.n = unhex("050102030405", t.raw);	/* longer than the column */
	vredo(&t);
	CU_ASSERT(t.rc < 0);
	sl_buf_release(&t.scratch);
	vdecode(&t, 254, 0xFE10, "020001");	/* INET6 '1::' */
	t.c.collation = 63;
	vredo(&t);
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL_FATAL(t.v.b.len, 16);
	CU_ASSERT(t.v.b.data[1] == 1 && t.v.b.data[15] == 0);
	sl_buf_release(&t.scratch);
	/* CHAR(4) with a charset is not padded (the server strips spaces and
	 * adds them back); collation 0 (no charset metadata) neither */
	vdecode(&t, 254, 0xFE04, "026162");
	expect_text(&t, SLUICE__VALUE__KIND__STRING, "ab");
	vdecode(&t, 254, 0xFE04, "026162");
	t.c.collation = 0;
	vredo(&t);
	CU_ASSERT_EQUAL(t.v.b.len, 2);
	sl_buf_release(&t.scratch);
	/* VARCHAR(300): 2-byte length */
	vdecode(&t, 15, 300, "");
	big[0] = 44;
	big[1] = 1;
	memset(big + 2, 'x', 300);
	t.rc = cap_value_decode(&t.c, big, 302, &t.used, &t.v, &t.scratch, &t.err);
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(t.used, 302);
	CU_ASSERT_EQUAL(t.v.b.len, 300);
	/* a length past the end is an error */
	t.rc = cap_value_decode(&t.c, big, 200, &t.used, &t.v, &t.scratch, &t.err);
	CU_ASSERT(t.rc < 0);
	sl_buf_release(&t.scratch);
	/* BLOB pack lengths 1..4 */
	vdecode(&t, 252, 1, "026869");
	expect_text(&t, SLUICE__VALUE__KIND__STRING, "hi");
	vdecode(&t, 252, 2, "02006869");
	expect_text(&t, SLUICE__VALUE__KIND__STRING, "hi");
	vdecode(&t, 252, 3, "0200006869");
	expect_text(&t, SLUICE__VALUE__KIND__STRING, "hi");
	vdecode(&t, 252, 4, "020000006869");
	expect_text(&t, SLUICE__VALUE__KIND__STRING, "hi");
	vdecode(&t, 252, 4, "ffffff7f6869");
	CU_ASSERT(t.rc < 0);
	sl_buf_release(&t.scratch);
	/* GEOMETRY: 4-byte length, SRID + WKB */
	vdecode(&t, 255, 4, "0900000000000000010100000000");
	CU_ASSERT_EQUAL(t.rc, 0);
	CU_ASSERT_EQUAL(t.v.kind, SLUICE__VALUE__KIND__GEOMETRY);
	CU_ASSERT_EQUAL(t.v.b.len, 9);
	sl_buf_release(&t.scratch);
	/* MySQL binary JSON becomes JSON text */
	vdecode(&t, 245, 4, "020000000401");
	expect_text(&t, SLUICE__VALUE__KIND__JSON, "true");
	vdecode(&t, 245, 4, "0300000000ffff");
	CU_ASSERT(t.rc < 0);
	sl_buf_release(&t.scratch);
	/* unknown type */
	vdecode(&t, 100, 0, "00");
	CU_ASSERT(t.rc < 0);
	sl_buf_release(&t.scratch);
}

static void test_cap_codecs__charsets(void)
{
	CU_ASSERT_STRING_EQUAL(cap_charset_of_collation(8), "latin1");
	CU_ASSERT_STRING_EQUAL(cap_charset_of_collation(33), "utf8mb3");
	CU_ASSERT_STRING_EQUAL(cap_charset_of_collation(45), "utf8mb4");
	CU_ASSERT_STRING_EQUAL(cap_charset_of_collation(63), "binary");
	CU_ASSERT_STRING_EQUAL(cap_charset_of_collation(255), "utf8mb4");
	CU_ASSERT_STRING_EQUAL(cap_charset_of_collation(323), "utf8mb4");
	CU_ASSERT_PTR_NULL(cap_charset_of_collation(60000));
}

/* ---- a counting sink ---- */

static void json_text(const char *hex, const char *want)
{
	uint8_t b[512];
	size_t n = unhex(hex, b);
	struct sl_buf out;
	char why[160] = "";
	int rc;

	sl_buf_init(&out, 4096);
	rc = cap_json_to_text(b, n, &out, why, sizeof(why));
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&out), want);
	if (rc || strcmp(sl_buf_cstr(&out), want))
		fprintf(stderr, "\n  json %s: got '%s' (%s), want '%s'\n", hex, sl_buf_cstr(&out), why, want);
	sl_buf_release(&out);
}

/* {"age": 25, "name": "Joe"} in MySQL's binary form (small object). */
#define JOE_JSON "00" "0200" "1d00" "1200" "0300" "1500" "0400" "05" "1900" "0c" "1900" \
		 "616765" "6e616d65" "034a6f65"

static void test_cap_codecs__json_binary(void)
{
	struct sl_buf out;
	char why[160];
	uint8_t bad[64];
	size_t n;

	json_text(JOE_JSON, "{\"age\": 25, \"name\": \"Joe\"}");
	json_text("0400", "null");
	json_text("0401", "true");
	json_text("0c" "03" "612262", "\"a\\\"b\"");
	json_text("09" "ffffffffffffffff", "-1");
	json_text("0a" "ffffffffffffffff", "18446744073709551615");
	json_text("0b" "000000000000f83f", "1.5");
	json_text("0b" "0000000000000840", "3.0");
	/* [1, "x", [], {}] small array; nested empty containers by offset */
	json_text("02" "0400" "1a00" "050100" "0c1000" "021200" "001600" "0178" "00000400" "00000400",
		  "[1, \"x\", [], {}]");
	/* large array [7] */
	json_text("03" "01000000" "0d000000" "0507000000", "[7]");
	/* opaque DATE 2012-03-18 */
	json_text("0f" "0a" "08" "0000000000e48b19", "\"2012-03-18\"");	/* opaque DATE */
	/* broken: offsets past the end, deep nesting, unknown types: errors, never a crash */
	sl_buf_init(&out, 4096);
	n = unhex("00" "0100" "ff00", bad);
	CU_ASSERT(cap_json_to_text(bad, n, &out, why, sizeof(why)) < 0);
	n = unhex("0e00", bad);
	CU_ASSERT(cap_json_to_text(bad, n, &out, why, sizeof(why)) < 0);
	n = unhex("0c" "ff", bad);
	CU_ASSERT(cap_json_to_text(bad, n, &out, why, sizeof(why)) < 0);
	sl_buf_release(&out);
}

static void test_cap_codecs__crc32(void)
{
	static uint8_t buf[70000];
	uint32_t seed = 12345;

	for (size_t i = 0; i < sizeof(buf); i++) {
		seed = seed * 1103515245u + 12345u;
		buf[i] = (uint8_t)(seed >> 16);
	}
	/* every length around the fast path's block sizes, and odd alignments */
	for (size_t n = 0; n < 300; n++)
		for (size_t a = 0; a < 3; a++)
			CU_ASSERT_EQUAL(cap__crc32(0, buf + a, n), (uint32_t)crc32(0L, buf + a, (uInt)n));
	CU_ASSERT_EQUAL(cap__crc32(0, buf, sizeof(buf)), (uint32_t)crc32(0L, buf, sizeof(buf)));
	CU_ASSERT_EQUAL(cap__crc32(0x12345678, buf + 1, 65537), (uint32_t)crc32(0x12345678, buf + 1, 65537));
	CU_ASSERT_EQUAL(cap__crc32(0, (const uint8_t *)"123456789", 9), 0xcbf43926u);
}

static void test_cap_codecs__gtid_sets(void)
{
	struct sl_buf b, t;
	struct sl_err err = SL_ERR_INIT;
	char hex[1024];

	sl_buf_init(&b, 1 << 16);
	sl_buf_init(&t, 1 << 16);
	/* untagged: n_sids, uuid, n_intervals, [1,14) [20,21) */
	CU_ASSERT_EQUAL(cap_gtid_set_encode("b9b88c66-0755-11f1-9899-4a9da94c4d71:1-13:20", &b, &err), 0);
	CU_ASSERT_EQUAL(b.len, 8 + 16 + 8 + 32);
	for (size_t i = 0; i < b.len; i++)
		snprintf(hex + 2 * i, 3, "%02x", b.data[i]);
	CU_ASSERT_STRING_EQUAL(hex, "0100000000000000" "b9b88c66075511f198994a9da94c4d71" "0200000000000000"
				    "0100000000000000" "0e00000000000000" "1400000000000000" "1500000000000000");
	CU_ASSERT_EQUAL(cap_gtid_set_decode(b.data, b.len, &t, &err), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&t), "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-13:20");
	/* tagged (MySQL 8.4+): format bytes around a 6-byte count, tag length * 2 */
	sl_buf_reset(&b);
	sl_buf_reset(&t);
	CU_ASSERT_EQUAL(cap_gtid_set_encode("55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2", &b, &err), 0);
	for (size_t i = 0; i < b.len && i < 500; i++)
		snprintf(hex + 2 * i, 3, "%02x", b.data[i]);
	/* byte-identical to the PREVIOUS_GTIDS of binlog_transaction_with_GTID_TAG.000001 */
	CU_ASSERT_STRING_EQUAL(hex, "0102000000000001" "55778904029911f1b1b84ef0c4956feb" "00"
				    "0100000000000000" "0100000000000000" "0e00000000000000"
				    "55778904029911f1b1b84ef0c4956feb" "0a6d79746167"
				    "0100000000000000" "0100000000000000" "0300000000000000");
	CU_ASSERT_EQUAL(cap_gtid_set_decode(b.data, b.len, &t, &err), 0);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&t), "55778904-0299-11f1-b1b8-4ef0c4956feb:1-13:mytag:1-2");
	/* bad sets are errors */
	sl_buf_reset(&b);
	CU_ASSERT(cap_gtid_set_encode("nonsense", &b, &err) < 0);
	CU_ASSERT(cap_gtid_set_encode("b9b88c66-0755-11f1-9899-4a9da94c4d71:5-3", &b, &err) < 0);
	CU_ASSERT(cap_gtid_set_decode((const uint8_t *)"\x05\0\0\0\0\0\0\0", 8, &t, &err) < 0);
	/* COM_BINLOG_DUMP_GTID: 1e, flags 0004, server id, name length, name, pos, data size, data */
	sl_buf_reset(&b);
	CU_ASSERT_EQUAL(cap_gtid_dump_packet(0x53000001, "", 4, "b9b88c66-0755-11f1-9899-4a9da94c4d71:1-2",
					     0, &b, &err), 0);
	for (size_t i = 0; i < b.len; i++)
		snprintf(hex + 2 * i, 3, "%02x", b.data[i]);
	CU_ASSERT_STRING_EQUAL(hex, "1e" "0400" "01000053" "00000000" "0400000000000000" "30000000"
				    "0100000000000000" "b9b88c66075511f198994a9da94c4d71" "0100000000000000"
				    "0100000000000000" "0300000000000000");
	sl_buf_release(&b);
	sl_buf_release(&t);
}

/* ---- statements by kind (formats/fmt_stmt.c, capture/cap_stmt.c) ---- */

static void test_cap_codecs__statement_kinds(void)
{
	static const struct {
		const char *sql;
		enum fmt_stmt_kind k;
	} t[] = {
		{ "BEGIN", FMT_STMT_BEGIN },
		{ "  begin ;", FMT_STMT_BEGIN },
		{ "START TRANSACTION", FMT_STMT_BEGIN },
		{ "XA START 'x'", FMT_STMT_BEGIN },
		{ "COMMIT", FMT_STMT_COMMIT },
		{ "XA PREPARE 'x'", FMT_STMT_COMMIT },
		{ "ROLLBACK", FMT_STMT_ROLLBACK },
		{ "ROLLBACK TO SAVEPOINT a", FMT_STMT_TXN_OTHER },
		{ "SAVEPOINT a", FMT_STMT_TXN_OTHER },
		{ "RELEASE SAVEPOINT a", FMT_STMT_TXN_OTHER },
		{ "XA END 'x'", FMT_STMT_TXN_OTHER },
		/* row changes written as statements */
		{ "INSERT INTO t(v) VALUES (RAND())", FMT_STMT_DML },
		{ "insert into t select * from u", FMT_STMT_DML },
		{ "UPDATE t SET v=@x", FMT_STMT_DML },
		{ "DELETE FROM t", FMT_STMT_DML },
		{ "DELETE HISTORY FROM h", FMT_STMT_OTHER },
		{ "delete history from `d`.`h` before system_time '2020-01-01'", FMT_STMT_OTHER },
		{ "DELETE history FROM history JOIN t ON history.id = t.id", FMT_STMT_DML },
		{ "DELETE HISTORY FROM h WHERE 1", FMT_STMT_DML },
		{ "REPLACE INTO t VALUES (1)", FMT_STMT_DML },
		{ "LOAD DATA INFILE 'x' INTO TABLE t", FMT_STMT_DML },
		{ "LOAD XML INFILE 'x' INTO TABLE t", FMT_STMT_DML },
		{ "LOAD INDEX INTO CACHE t", FMT_STMT_OTHER },
		{ "CALL p()", FMT_STMT_DML },
		{ "WITH c AS (SELECT 1) UPDATE t, c SET t.v=1", FMT_STMT_DML },
		{ "/* app */ INSERT INTO t VALUES (1)", FMT_STMT_DML },
		{ "-- x\nUPDATE t SET v=1", FMT_STMT_DML },
		{ "# x\n\tDELETE FROM t", FMT_STMT_DML },
		{ "SET STATEMENT max_statement_time=10 FOR INSERT INTO t VALUES (1)", FMT_STMT_DML },
		{ "SET STATEMENT sql_mode='FOR' FOR GRANT ALL ON *.* TO u", FMT_STMT_ACCOUNT },
		{ "INSERTED", FMT_STMT_OTHER },
		/* accounts, however they are dressed */
		{ "CREATE USER 'bob'@'%' IDENTIFIED BY 'Canary'", FMT_STMT_ACCOUNT },
		{ "create or replace user bob", FMT_STMT_ACCOUNT },
		{ "CREATE USER IF NOT EXISTS bob", FMT_STMT_ACCOUNT },
		{ "ALTER USER 'bob'@'%' IDENTIFIED BY 'Canary'", FMT_STMT_ACCOUNT },
		{ "DROP USER bob", FMT_STMT_ACCOUNT },
		{ "DROP USER IF EXISTS bob", FMT_STMT_ACCOUNT },
		{ "RENAME USER a TO b", FMT_STMT_ACCOUNT },
		{ "GRANT SELECT ON d.* TO bob", FMT_STMT_ACCOUNT },
		{ "REVOKE SELECT ON d.* FROM bob", FMT_STMT_ACCOUNT },
		{ "SET PASSWORD FOR bob = PASSWORD('Canary')", FMT_STMT_ACCOUNT },
		{ "SET DEFAULT ROLE r FOR bob", FMT_STMT_ACCOUNT },
		{ "SET ROLE r", FMT_STMT_ACCOUNT },
		{ "CREATE ROLE r", FMT_STMT_ACCOUNT },
		{ "DROP ROLE r", FMT_STMT_ACCOUNT },
		{ "  /* a */ /* b */\n GRANT ALL ON *.* TO x", FMT_STMT_ACCOUNT },
		{ "/*!80000 CREATE USER x IDENTIFIED BY 'Canary' */", FMT_STMT_ACCOUNT },
		{ "/*M!100500 ALTER USER x IDENTIFIED BY 'Canary' */", FMT_STMT_ACCOUNT },
		{ "/*!*/ GRANT ALL ON *.* TO x", FMT_STMT_ACCOUNT },
		/* triggers */
		{ "CREATE TRIGGER tr BEFORE UPDATE ON t FOR EACH ROW SET NEW.v=1", FMT_STMT_TRIGGER },
		{ "CREATE DEFINER=`root`@`localhost` TRIGGER tr AFTER INSERT ON t FOR EACH ROW SET @a=1",
		  FMT_STMT_TRIGGER },
		{ "CREATE DEFINER = 'a b'@'%' TRIGGER tr", FMT_STMT_TRIGGER },
		{ "CREATE OR REPLACE DEFINER=CURRENT_USER() TRIGGER tr", FMT_STMT_TRIGGER },
		{ "create definer=root@localhost trigger tr", FMT_STMT_TRIGGER },
		{ "DROP TRIGGER IF EXISTS tr", FMT_STMT_TRIGGER },
		{ "CREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN END", FMT_STMT_OTHER },
		/* DDL */
		{ "CREATE TABLE user (a INT)", FMT_STMT_OTHER },
		{ "ALTER TABLE user ADD b INT", FMT_STMT_OTHER },
		{ "RENAME TABLE a TO user", FMT_STMT_OTHER },
		{ "DROP TABLE IF EXISTS `t` /* generated by server */", FMT_STMT_OTHER },
		{ "CREATE ORDERS", FMT_STMT_OTHER },
		{ "TRUNCATE t", FMT_STMT_OTHER },
		{ "SET @a=1", FMT_STMT_OTHER },
		{ "/* unterminated", FMT_STMT_OTHER },
		{ "", FMT_STMT_OTHER },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		enum fmt_stmt_kind k = fmt_stmt_classify(t[i].sql, strlen(t[i].sql));

		if (k != t[i].k)
			fprintf(stderr, "\n  '%s': %s, want %s\n", t[i].sql, fmt_stmt_kind_name(k),
				fmt_stmt_kind_name(t[i].k));
		CU_ASSERT_EQUAL(k, t[i].k);
	}
	/* the length given bounds the scan */
	CU_ASSERT_EQUAL(fmt_stmt_classify("GRANT", 3), FMT_STMT_OTHER);
	CU_ASSERT_EQUAL(fmt_stmt_classify(NULL, 0), FMT_STMT_OTHER);
}

/* Loop prevention: replay's DDL mark and beacon, and the tables whose rows
 * mark replay's transactions (cap_loop.c). */
static void test_cap_codecs__replay_marks(void)
{
	static const char beacon[] = FMT_REPLAY_BEACON;
	struct cap_decoder_opts o = { "mariadb", NULL, "test", 0, 0 };
	struct cap_decoder *d = cap_decoder_new(&o);
	static const char drop[] = "DROP TABLE `t` /* generated by server */";
	static const char alter[] = FMT_REPLAY_MARK "ALTER TABLE t ADD c INT";

	CU_ASSERT_EQUAL(fmt_stmt_replayed(alter, strlen(alter)), 1);
	CU_ASSERT_EQUAL(fmt_stmt_replayed(" \n/* sluice:replay */ DROP VIEW v", 33), 1);
	CU_ASSERT_EQUAL(fmt_stmt_replayed(beacon, strlen(beacon)), 2);
	CU_ASSERT_EQUAL(fmt_stmt_replayed(drop, strlen(drop)), 0);
	CU_ASSERT_EQUAL(fmt_stmt_replayed("/* sluice:replay", 16), 0);
	CU_ASSERT_EQUAL(fmt_stmt_replayed("ALTER TABLE t /* sluice:replay */", 33), 0);
	CU_ASSERT_EQUAL(fmt_stmt_classify(alter, strlen(alter)), FMT_STMT_OTHER);
	CU_ASSERT_EQUAL(fmt_stmt_classify(beacon, strlen(beacon)), FMT_STMT_OTHER);
	CU_ASSERT_EQUAL(cap__loop_mark("sluice", 6, "applied", 7), CAP_MARK_APPLIED);
	CU_ASSERT_EQUAL(cap__loop_mark("sluice", 6, "snapshot_chunks", 15), CAP_MARK_CHUNKS);
	CU_ASSERT_EQUAL(cap__loop_mark("sluice", 6, "checkpoint", 10), 0);
	CU_ASSERT_EQUAL(cap__loop_mark("app", 3, "applied", 7), 0);
	/* a rewritten DDL is replay's only right after its connection's beacon */
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 7, drop, strlen(drop)), 0);
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 7, beacon, strlen(beacon)), 1);
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 8, drop, strlen(drop)), 0);	/* another connection */
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 7, drop, strlen(drop)), 1);
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 7, drop, strlen(drop)), 0);	/* once */
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 9, alter, strlen(alter)), 1);
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 7, beacon, strlen(beacon)), 1);
	cap__loop_restart(d);	/* a server start: thread ids begin again */
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 7, drop, strlen(drop)), 0);
	/* rows: the first rows event of a transaction decides */
	cap__txn_open(d, 0, 1);
	CU_ASSERT_EQUAL(cap__loop_rows(d, CAP_MARK_APPLIED), 1);
	CU_ASSERT_EQUAL(cap__loop_rows(d, 0), 1);
	cap__txn_reset(d);
	cap__txn_open(d, 0, 1);
	CU_ASSERT_EQUAL(cap__loop_rows(d, 0), 0);
	CU_ASSERT_EQUAL(cap__loop_rows(d, CAP_MARK_APPLIED), 0);	/* replay's checkpoint: no data row */
	CU_ASSERT_EQUAL(d->warned_mark, 0);
	d->begun = 1;	/* a data row was written */
	CU_ASSERT_EQUAL(cap__loop_rows(d, CAP_MARK_APPLIED), 0);	/* an older replay: kept, warned */
	CU_ASSERT_EQUAL(d->warned_mark, 1);
	cap__txn_reset(d);
	cap_decoder_free(d);
	/* --keep-replayed keeps everything */
	o.keep_replayed = 1;
	d = cap_decoder_new(&o);
	cap__txn_open(d, 0, 1);
	CU_ASSERT_EQUAL(cap__loop_rows(d, CAP_MARK_APPLIED), 0);
	CU_ASSERT_EQUAL(cap__loop_ddl(d, 9, alter, strlen(alter)), 0);
	cap_decoder_free(d);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("capture/codecs", NULL, NULL);
	CU_add_test(s, "decimal", test_cap_codecs__decimal);
	CU_add_test(s, "time2", test_cap_codecs__time2);
	CU_add_test(s, "datetime2, timestamp2, date, year, old temporal", test_cap_codecs__datetime2_timestamp2);
	CU_add_test(s, "integers, float, bit", test_cap_codecs__ints_bit);
	CU_add_test(s, "enum and set", test_cap_codecs__enum_set);
	CU_add_test(s, "strings and blobs", test_cap_codecs__strings_blobs);
	CU_add_test(s, "charsets", test_cap_codecs__charsets);
	CU_add_test(s, "MySQL binary JSON to text", test_cap_codecs__json_binary);
	CU_add_test(s, "GTID sets and the COM_BINLOG_DUMP_GTID packet", test_cap_codecs__gtid_sets);
	CU_add_test(s, "CRC-32 fast path equals zlib", test_cap_codecs__crc32);
	CU_add_test(s, "statement kinds (one classifier)", test_cap_codecs__statement_kinds);
	CU_add_test(s, "replay's marks (loop prevention)", test_cap_codecs__replay_marks);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
