/* fuzz_decoder.c - libFuzzer target: the binlog event decoder and the parsers beside it. */
/*
 * Input: a binlog file image (fe 62 69 6e, then events) is fed event by
 * event, as cap_file.c does, with file offsets; anything else is split on
 * its first byte: 0 binary JSON, 1 a DDL statement for the schema history,
 * 2 a binary GTID set, 3 raw events without the magic. Every path must end
 * in 0 or an error, never a crash, a leak or an out-of-bounds read.
 * Build and run: tests/fuzz/run.sh [SECONDS] (clang -fsanitize=fuzzer,address).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cap_int.h"

static int rec(void *ctx, const Sluice__Record *r, struct sl_err *err)
{
	struct cap_decoder *d = ctx;

	(void)err;
	/* touch what a sink touches: the row's table definition */
	if (r->body_case == SLUICE__RECORD__BODY_ROW && !cap_decoder_table(d, r->row->table_ref))
		abort();
	return 0;
}

static int end(void *ctx, const Sluice__Position *pos, uint64_t t, struct sl_err *err)
{
	(void)ctx;
	(void)pos;
	(void)t;
	(void)err;
	return 0;
}

static const char *const keep_all[] = { NULL };

static void events(const uint8_t *p, size_t n, int positional)
{
	struct cap_decoder_opts o = { .flavor = "mysql", .skip_schemas = keep_all, .origin = "fuzz",
				      .allow_positional = positional };
	struct cap_decoder *d = cap_decoder_new(&o);
	struct cap_sink s = { d, rec, end };
	struct sl_err err = SL_ERR_INIT;
	size_t off = 0;

	cap_decoder_set_file(d, "fuzz.000001");
	while (n - off >= 19) {
		uint32_t len = sl_le32(p + off + 9);
		uint8_t *copy;

		if (len < 19 || len > n - off)
			break;
		/* an exact-size heap copy, so ASan sees any read past the event */
		copy = malloc(len);
		memcpy(copy, p + off, len);
		cap_decoder_set_offset(d, 4 + off);
		if (cap_decoder_event(d, copy, len, &s, &err) < 0) {
			free(copy);
			break;
		}
		free(copy);
		off += len;
	}
	cap_decoder_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= 4 && memcmp(data, "\xfe" "bin", 4) == 0) {
		events(data + 4, size - 4, size & 1);
		return 0;
	}
	if (size < 1)
		return 0;
	switch (data[0] & 3) {
	case 0: {
		struct sl_buf out;
		char why[160];
		uint8_t *copy = malloc(size - 1 ? size - 1 : 1);

		memcpy(copy, data + 1, size - 1);
		sl_buf_init(&out, 1 << 20);
		cap_json_to_text(copy, size - 1, &out, why, sizeof(why));
		sl_buf_release(&out);
		free(copy);
		break;
	}
	case 1: {
		struct cap_schema *s = cap__schema_new();
		char *sql = malloc(size);

		memcpy(sql, data + 1, size - 1);
		cap__schema_apply(s, "db", sql, size - 1);
		cap__schema_apply(s, "db", sql, size - 1);
		free(sql);
		cap__schema_free(s);
		break;
	}
	case 2: {
		struct sl_buf t;
		struct sl_err err = SL_ERR_INIT;
		uint8_t *copy = malloc(size);

		memcpy(copy, data + 1, size - 1);
		sl_buf_init(&t, 1 << 20);
		cap_gtid_set_decode(copy, size - 1, &t, &err);
		sl_buf_release(&t);
		free(copy);
		break;
	}
	default:
		events(data + 1, size - 1, 1);
		break;
	}
	return 0;
}
