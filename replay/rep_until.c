/* rep_until.c - replay --until: parsing the point (GTID, FILE:POS, time) and the "past the point?" test (rep_hist.h says where the boundary lies). */
#include "rep.h"
#include "rep_hist.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "banned.h"

/* Decimal digits s[0..n) into *v (no sign, no overflow): 0, or -1. */
static int digits(const char *s, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > max)
		return -1;
	*v = x;
	return 0;
}

static int is_uuid(const char *s, size_t n)
{
	if (n != 36)
		return 0;
	for (size_t i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i])) {
			return 0;
		}
	}
	return 1;
}

int rep__gtid_parse(const char *s, struct rep_gtid *g)
{
	const char *d1, *d2, *colon;
	uint64_t a, b, c;

	memset(g, 0, sizeof(*g));
	if (!s || !*s)
		return -1;
	if ((colon = strchr(s, ':'))) {
		if (!is_uuid(s, (size_t)(colon - s)) || strchr(colon + 1, ':') ||
		    digits(colon + 1, strlen(colon + 1), UINT64_MAX, &c) || !c)
			return -1;
		g->mysql = 1;
		for (size_t i = 0; i < 36; i++)
			g->uuid[i] = (char)tolower((unsigned char)s[i]);
		g->seq = c;
		return 0;
	}
	if (!(d1 = strchr(s, '-')) || !(d2 = strchr(d1 + 1, '-')) || strchr(d2 + 1, '-') ||
	    digits(s, (size_t)(d1 - s), UINT32_MAX, &a) ||
	    digits(d1 + 1, (size_t)(d2 - d1 - 1), UINT32_MAX, &b) ||
	    digits(d2 + 1, strlen(d2 + 1), UINT64_MAX, &c))
		return -1;
	g->domain = (uint32_t)a;
	g->server = (uint32_t)b;
	g->seq = c;
	return 0;
}

/* 'YYYY-MM-DD HH:MM:SS' (or a T between), then nothing (local time), 'Z',
 * or +HH:MM / -HH:MM. 0 with *t, -1 when s is no such time; -2 when it is
 * one whose fields are out of range. */
static int parse_time(const char *s, int64_t *t)
{
	int y, mo, d, h, mi, se, n = 0, oh = 0, om = 0, sign = 0;
	struct tm tm = { 0 };
	const char *z;
	time_t v;

	if (strlen(s) < 19 || !isdigit((unsigned char)s[0]) || s[4] != '-' || s[7] != '-' ||
	    (s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':')
		return -1;
	for (int i = 0; i < 19; i++)
		if (i != 4 && i != 7 && i != 10 && i != 13 && i != 16 && !isdigit((unsigned char)s[i]))
			return -1;
	if (sscanf(s, "%4d-%2d-%2d%*c%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &se, &n) != 6 || n != 19)
		return -1;
	z = s + 19;
	if (*z == 'Z' && !z[1]) {
		sign = 1;
	} else if ((*z == '+' || *z == '-') && strlen(z) == 6 && isdigit((unsigned char)z[1]) &&
		   isdigit((unsigned char)z[2]) && z[3] == ':' && isdigit((unsigned char)z[4]) &&
		   isdigit((unsigned char)z[5])) {
		sign = *z == '+' ? 1 : -1;
		oh = (z[1] - '0') * 10 + (z[2] - '0');
		om = (z[4] - '0') * 10 + (z[5] - '0');
		if (oh > 14 || om > 59)
			return -2;
	} else if (*z) {
		return -1;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59)
		return -2;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	if (sign) {
		v = timegm(&tm);
		*t = (int64_t)v - sign * (int64_t)(oh * 3600 + om * 60);
	} else {
		tm.tm_isdst = -1;
		v = mktime(&tm);
		*t = (int64_t)v;
	}
	/* normalisation moved a field (2023-02-30): not a real time */
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -2;
	return v == (time_t)-1 ? -2 : 0;
}

int rep__until_parse(const char *s, struct rep_until *u, struct sl_err *err)
{
	const char *colon;
	int rc;

	memset(u, 0, sizeof(*u));
	if (!s || !*s)
		return 0;
	snprintf(u->text, sizeof(u->text), "%s", s);
	if ((rc = parse_time(s, &u->time)) == 0) {
		u->kind = REP_UNTIL_TIME;
		return 0;
	}
	if (rc == -2)
		return sl_err_set(err, -SL_EINVAL_ARG, "'%s': no such time (YYYY-MM-DD HH:MM:SS, "
				  "then Z, +HH:MM or -HH:MM, or nothing for local time)", s);
	if (!rep__gtid_parse(s, &u->gtid)) {
		u->kind = REP_UNTIL_GTID;
		return 0;
	}
	colon = strrchr(s, ':');
	if (colon && colon > s && (size_t)(colon - s) < sizeof(u->file) &&
	    !memchr(s, '/', (size_t)(colon - s)) && !digits(colon + 1, strlen(colon + 1), UINT64_MAX, &u->pos) &&
	    !is_uuid(s, (size_t)(colon - s))) {
		memcpy(u->file, s, (size_t)(colon - s));
		u->file[colon - s] = 0;
		if (!strchr(u->file, ':') && !strchr(u->file, ' ')) {
			u->kind = REP_UNTIL_POS;
			return 0;
		}
	}
	memset(u, 0, sizeof(*u));
	return sl_err_set(err, -SL_EINVAL_ARG, "'%s': not a GTID (D-S-N or UUID:N), a binlog "
			  "position (FILE:POS) or a time ('YYYY-MM-DD HH:MM:SS[+HH:MM|Z]')", s);
}

/* Split "stem.000012" into its stem length and number; -1 when no number. */
static int binlog_num(const char *f, size_t *stem, uint64_t *num)
{
	const char *dot = strrchr(f, '.');

	if (!dot || digits(dot + 1, strlen(dot + 1), UINT64_MAX, num))
		return -1;
	*stem = (size_t)(dot - f);
	return 0;
}

int rep__binlog_cmp(const char *a, uint64_t apos, const char *b, uint64_t bpos)
{
	size_t sa, sb;
	uint64_t na, nb;
	int c;

	if (!binlog_num(a, &sa, &na) && !binlog_num(b, &sb, &nb) && sa == sb && !memcmp(a, b, sa))
		c = na < nb ? -1 : na > nb;
	else
		c = strcmp(a, b);
	if (c)
		return c < 0 ? -1 : 1;
	return apos < bpos ? -1 : apos > bpos;
}

static int same_line(const struct rep_gtid *a, const struct rep_gtid *b)
{
	return a->mysql == b->mysql && (a->mysql ? !strcmp(a->uuid, b->uuid) : a->domain == b->domain);
}

int rep__until_past(const struct rep_until *u, const char *gtid, const Sluice__Position *end,
		    uint64_t time)
{
	struct rep_gtid g;

	switch (u->kind) {
	case REP_UNTIL_GTID:
		return !rep__gtid_parse(gtid, &g) && same_line(&g, &u->gtid) && g.seq > u->gtid.seq;
	case REP_UNTIL_POS:
		return end && end->file && end->file[0] &&
		       rep__binlog_cmp(end->file, end->offset, u->file, u->pos) > 0;
	case REP_UNTIL_TIME:
		return (int64_t)time >= u->time;
	default:
		return 0;
	}
}

int rep__until_at(const struct rep_until *u, const char *gtid, const Sluice__Position *end)
{
	struct rep_gtid g;

	switch (u->kind) {
	case REP_UNTIL_GTID:
		return !rep__gtid_parse(gtid, &g) && same_line(&g, &u->gtid) && g.seq == u->gtid.seq &&
		       (g.mysql || g.server == u->gtid.server);
	case REP_UNTIL_POS:
		return end && end->file && end->file[0] &&
		       !rep__binlog_cmp(end->file, end->offset, u->file, u->pos);
	default:
		return 0;
	}
}

int rep__until_beat(const struct rep_until *u, const Sluice__Position *pos, uint64_t time)
{
	switch (u->kind) {
	case REP_UNTIL_POS:
		return pos && pos->file && pos->file[0] &&
		       rep__binlog_cmp(pos->file, pos->offset, u->file, u->pos) >= 0;
	case REP_UNTIL_TIME:
		return time && (int64_t)time >= u->time;
	default:
		return 0;
	}
}

int rep_until_check(const char *value, struct sl_err *err)
{
	struct rep_until u;

	return rep__until_parse(value, &u, err);
}
