/* cap_decimal.c - the binary DECIMAL of row images and JSON opaque values, as text. */
#include <stdio.h>
#include <string.h>

#include "cap_int.h"
#include "banned.h"

static uint32_t be_n(const uint8_t *p, unsigned k)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < k; i++)
		v = v << 8 | p[i];
	return v;
}

/* DECIMAL binary form (strings/decimal.c bin2decimal): groups of 9 digits
 * in 4 bytes, partial leading/trailing groups in fewer bytes, big-endian,
 * sign in the top bit of the first byte, negative values bit-inverted. */
static const unsigned dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };
static const uint32_t pow10_[10] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
				     10000000, 100000000, 1000000000 };

static size_t decimal_size(unsigned precision, unsigned scale)
{
	unsigned intg = precision - scale;

	return (intg / 9) * 4 + dig2bytes[intg % 9] + (scale / 9) * 4 + dig2bytes[scale % 9];
}

int cap__decimal_text(const Sluice__ColumnDef *c, const uint8_t *p, size_t n, size_t *used,
		      char text[CAP_DECIMAL_TEXT_MAX], size_t *len, struct sl_err *err)
{
	unsigned prec = c->meta >> 8 & 0xff, scale = c->meta & 0xff;
	unsigned intg;
	uint8_t buf[40];
	size_t size, pos = 0, tl = 0;
	uint32_t mask;
	int started = 0;

	if (prec == 0 || prec > 65 || scale > 30 || scale > prec)
		return sl_err_set(err, -SL_ECORRUPT, "column '%s': bad DECIMAL(%u,%u) metadata",
				  c->name ? c->name : "?", prec, scale);
	intg = prec - scale;
	size = decimal_size(prec, scale);
	if (size > n)
		return sl_err_set(err, -SL_ECORRUPT,
				  "column '%s' (type %u): value needs %zu bytes, %zu left in the row",
				  c->name ? c->name : "?", c->type, size, n);
	memcpy(buf, p, size);
	mask = (buf[0] & 0x80) ? 0 : 0xffffffffu;
	buf[0] ^= 0x80;
	if (mask)
		text[tl++] = '-';
	/* integer part: leading partial group, then full groups */
	for (unsigned i = 0; i <= intg / 9; i++) {
		unsigned d = i == 0 ? intg % 9 : 9;
		unsigned k = dig2bytes[d];
		uint32_t x;

		if (d == 0)
			continue;
		x = (be_n(buf + pos, k) ^ mask) & (k == 4 ? 0xffffffffu : ((1u << (8 * k)) - 1));
		pos += k;
		if (x >= pow10_[d])
			return sl_err_set(err, -SL_ECORRUPT, "column '%s': bad DECIMAL digits",
					  c->name ? c->name : "?");
		if (!started) {
			if (x) {
				tl += (size_t)snprintf(text + tl, CAP_DECIMAL_TEXT_MAX - tl, "%u", x);
				started = 1;
			}
		} else {
			tl += (size_t)snprintf(text + tl, CAP_DECIMAL_TEXT_MAX - tl, "%0*u", (int)d, x);
		}
	}
	if (!started)
		text[tl++] = '0';
	if (scale) {
		text[tl++] = '.';
		for (unsigned i = 0; i < (scale + 8) / 9; i++) {
			unsigned d = (i < scale / 9) ? 9 : scale % 9;
			unsigned k = dig2bytes[d];
			uint32_t x = (be_n(buf + pos, k) ^ mask) &
				     (k == 4 ? 0xffffffffu : ((1u << (8 * k)) - 1));

			pos += k;
			if (x >= pow10_[d])
				return sl_err_set(err, -SL_ECORRUPT, "column '%s': bad DECIMAL digits",
						  c->name ? c->name : "?");
			tl += (size_t)snprintf(text + tl, CAP_DECIMAL_TEXT_MAX - tl, "%0*u", (int)d, x);
		}
	}
	*used = size;
	*len = tl;
	return 0;
}
