/* sl_crc32c.c - CRC32C (Castagnoli): SSE4.2 crc32 instruction when the CPU has it, else slicing-by-8. */
#include "sl.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <nmmintrin.h>
#endif

static uint32_t table[8][256];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int use_hw;

#if defined(__x86_64__)
/* Three independent streams would be faster still; one stream already runs
 * at several GB/s, far above what a segment reader needs. */
__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t n)
{
	uint64_t c = ~crc;

	while (n && ((uintptr_t)p & 7)) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		n--;
	}
	while (n >= 32) {
		uint64_t v[4];

		memcpy(v, p, sizeof(v));
		c = _mm_crc32_u64(c, v[0]);
		c = _mm_crc32_u64(c, v[1]);
		c = _mm_crc32_u64(c, v[2]);
		c = _mm_crc32_u64(c, v[3]);
		p += 32;
		n -= 32;
	}
	while (n >= 8) {
		uint64_t v;

		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		n -= 8;
	}
	while (n--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return ~(uint32_t)c;
}
#endif

static void build(void)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	use_hw = __builtin_cpu_supports("sse4.2");
	{
		/* SLUICE_CRC32C=soft forces the table path (tests compare both). */
		const char *e = getenv("SLUICE_CRC32C");

		if (e && !strcmp(e, "soft"))
			use_hw = 0;
	}
#endif
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = c & 1 ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t sl_crc32c(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;

	pthread_once(&once, build);
#if defined(__x86_64__)
	if (use_hw)
		return crc_hw(crc, p, n);
#endif
	crc = ~crc;
	while (n >= 8) {
		uint32_t lo = crc ^ sl_le32(p), hi = sl_le32(p + 4);

		crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^
		      table[5][(lo >> 16) & 0xff] ^ table[4][lo >> 24] ^
		      table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
		      table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
		p += 8;
		n -= 8;
	}
	while (n--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}
