/* sl_dsn.c - parse mysql:// URLs and find the password without ever printing it. */
#include "sl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "banned.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Percent-decode [s, s+n) into a new string; NULL on a bad escape. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = sl_xmalloc(n + 1), *o = out;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%') {
			int h, l;

			if (i + 2 >= n) {
				free(out);
				return NULL;
			}
			h = hexval(s[i + 1]);
			l = hexval(s[i + 2]);
			if (h < 0 || l < 0) {
				free(out);
				return NULL;
			}
			*o++ = (char)(h << 4 | l);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = 0;
	return out;
}

static int read_password_file(struct sl_dsn *d, const char *path, struct sl_err *err)
{
	char line[1024];
	FILE *f = fopen(path, "r");
	size_t n;

	struct stat st;

	if (!f) {
		int e = errno;
		return sl_err_set(err, -e, "cannot open password file '%s': %s", path, strerror(e));
	}
	/* as ssh does with a private key: a password others can read is
	 * refused before it is read (chmod 600) */
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode) || (st.st_mode & (S_IRWXG | S_IRWXO))) {
		int regular = S_ISREG(st.st_mode);

		fclose(f);
		if (!regular)
			return sl_err_set(err, -SL_EINVAL_ARG, "password file '%s' is not a regular file", path);
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "password file '%s' is readable by group or others (mode %04o): chmod 600 it",
				  path, (unsigned)(st.st_mode & 07777));
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	n = strcspn(line, "\r\n");
	free(d->password);
	d->password = sl_xstrndup(line, n);
	return 0;
}

/* Host characters of a host name or IPv4 address (IPv6 goes in brackets). */
static int host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '-' || c == '_';
}

const char *sl_ssl_mode_name(enum sl_ssl_mode m)
{
	switch (m) {
	case SL_SSL_DISABLED: return "disabled";
	case SL_SSL_REQUIRED: return "required";
	case SL_SSL_VERIFY_CA: return "verify-ca";
	case SL_SSL_VERIFY_IDENTITY: return "verify-identity";
	}
	return "?";
}

/* ssl-mode's value; -1 when it is none of the four. */
static int ssl_mode_parse(const char *v)
{
	for (int m = SL_SSL_DISABLED; m <= SL_SSL_VERIFY_IDENTITY; m++)
		if (!strcmp(v, sl_ssl_mode_name((enum sl_ssl_mode)m)))
			return m;
	return -1;
}

/* One TLS policy (README "URLs and passwords"): verify-identity whenever an
 * ssl-* file is given, unless ssl-mode says otherwise; plain text without. */
static int ssl_mode_resolve(struct sl_dsn *d, const char *mode, struct sl_err *err)
{
	int any = d->ssl_ca || d->ssl_cert || d->ssl_key, m;

	if (!mode) {
		d->ssl_mode = any ? SL_SSL_VERIFY_IDENTITY : SL_SSL_DISABLED;
		return 0;
	}
	if ((m = ssl_mode_parse(mode)) < 0)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad url: ssl-mode '%s' is not disabled, required, verify-ca or verify-identity",
				  mode);
	if (m == SL_SSL_DISABLED && any)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad url: ssl-mode=disabled with ssl-ca, ssl-cert or ssl-key");
	if (m == SL_SSL_VERIFY_CA && !d->ssl_ca)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad url: ssl-mode=verify-ca needs ssl-ca (the certificate authority to check against)");
	d->ssl_mode = (enum sl_ssl_mode)m;
	return 0;
}

/* Parses what follows the userinfo's '@': host[:port][/db][?k=v&...] into d
 * (ssl-mode's text into *mode). Nothing here can hold the password: it lies
 * before the '@'. */
static int parse_rest_(struct sl_dsn *d, const char *p, char **pwfile, char **mode,
		       struct sl_err *err)
{
	const char *hostend = p + strcspn(p, "/?"), *colon, *q;

	if (*p == '[') {	/* [::1]:port */
		const char *rb = memchr(p, ']', (size_t)(hostend - p));

		if (!rb)
			return sl_err_set(err, -SL_EINVAL_ARG, "bad url: unclosed '[' in host");
		for (const char *s = p + 1; s < rb; s++)
			if (!(hexval(*s) >= 0 || *s == ':' || *s == '.'))
				return sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad character in IPv6 host '%.*s'",
						  (int)(rb - p - 1), p + 1);
		d->host = sl_xstrndup(p + 1, (size_t)(rb - p - 1));
		colon = rb + 1 < hostend && rb[1] == ':' ? rb + 1 : NULL;
		if (rb + 1 < hostend && !colon)
			return sl_err_set(err, -SL_EINVAL_ARG, "bad url: text after ']' in host");
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		for (const char *s = p; s < (colon ? colon : hostend); s++)
			if (!host_char((unsigned char)*s))
				return sl_err_set(err, -SL_EINVAL_ARG,
						  "bad url: bad character '%c' in host (percent-encode '@', ':', '/' and '?' in a password as %%40, %%3A, %%2F, %%3F)",
						  *s);
		d->host = sl_xstrndup(p, (size_t)((colon ? colon : hostend) - p));
	}
	if (colon) {
		char *end;
		unsigned long port;

		if (colon[1] < '0' || colon[1] > '9' || (port = strtoul(colon + 1, &end, 10), end != hostend) ||
		    port == 0 || port > 65535)
			return sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad port '%.*s'",
					  (int)(hostend - colon - 1), colon + 1);
		d->port = (unsigned)port;
	}
	q = strchr(hostend, '?');
	if (*hostend == '/') {
		const char *dbend = q ? q : hostend + strlen(hostend);

		if (dbend > hostend + 1) {
			d->db = pct_decode(hostend + 1, (size_t)(dbend - hostend - 1));
			if (!d->db)
				return sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad %%-escape in database name");
		}
	}
	for (const char *s = q ? q + 1 : NULL; s && *s;) {
		const char *amp = s + strcspn(s, "&"), *eq = memchr(s, '=', (size_t)(amp - s));
		char *val, **slot;
		size_t kl;

		if (!eq)
			return sl_err_set(err, -SL_EINVAL_ARG, "bad url: parameter '%.*s' has no value",
					  (int)(amp - s), s);
		kl = (size_t)(eq - s);
#define KEY(k) (kl == strlen(k) && !memcmp(s, k, kl))
		if (KEY("socket")) slot = &d->socket;
		else if (KEY("ssl-ca")) slot = &d->ssl_ca;
		else if (KEY("ssl-cert")) slot = &d->ssl_cert;
		else if (KEY("ssl-key")) slot = &d->ssl_key;
		else if (KEY("ssl-mode")) slot = mode;
		else if (KEY("password-file")) slot = pwfile;
		else
			return sl_err_set(err, -SL_EINVAL_ARG, "bad url: unknown parameter '%.*s'", (int)kl, s);
#undef KEY
		val = pct_decode(eq + 1, (size_t)(amp - eq - 1));
		if (!val)
			return sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad %%-escape in '%.*s'", (int)kl, s);
		free(*slot);
		*slot = val;
		s = *amp ? amp + 1 : amp;
	}
	if (!d->host[0]) {
		if (!d->socket)
			return sl_err_set(err, -SL_EINVAL_ARG, "bad url: no host and no socket");
		free(d->host);
		d->host = sl_xstrdup("localhost");
	}
	return 0;
}

static int parse_rest(struct sl_dsn *d, const char *p, char **pwfile, struct sl_err *err)
{
	char *mode = NULL;
	int rc = parse_rest_(d, p, pwfile, &mode, err);

	if (rc == 0)
		rc = ssl_mode_resolve(d, mode, err);
	free(mode);
	return rc;
}

/* Splits at the userinfo's '@' (at) and parses both sides into d. The user
 * ends at the first ':' (the password's start) and holds no '/' or '?'; the
 * password runs to 'at' and may hold anything. */
static int parse_at(struct sl_dsn *d, const char *p, const char *at, char **pwfile,
		    struct sl_err *err)
{
	const char *colon = memchr(p, ':', (size_t)(at - p));
	const char *uend = colon ? colon : at;

	memset(d, 0, sizeof(*d));
	if (uend == p || memchr(p, '/', (size_t)(uend - p)) || memchr(p, '?', (size_t)(uend - p)) ||
	    !(d->user = pct_decode(p, (size_t)(uend - p))))
		return sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad or empty user name");
	if (colon && !(d->password = pct_decode(colon + 1, (size_t)(at - colon - 1))))
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad url: bad %%-escape in the password (write '%%' as %%25)");
	return parse_rest(d, at + 1, pwfile, err);
}

/* The '@' that ends the userinfo of the URL body p: the one '@' after which
 * the rest parses as host[:port][/db][?params], so a password holding '@',
 * ':', '/' or '?' unescaped is still read the way it was meant. NULL when no
 * '@' or none fits; *several is set when more than one fits (ambiguous). */
static const char *userinfo_end(const char *p, int *several)
{
	const char *found = NULL;

	*several = 0;
	for (const char *a = strchr(p, '@'); a; a = strchr(a + 1, '@')) {
		struct sl_dsn t;
		struct sl_err e;
		char *pwfile = NULL;
		int ok = parse_at(&t, p, a, &pwfile, &e) == 0;

		free(pwfile);
		sl_dsn_release(&t);
		if (!ok)
			continue;
		if (found)
			*several = 1;
		found = a;
	}
	return found;
}

int sl_dsn_secret_span(const char *url, size_t *off, size_t *len)
{
	const char *p, *at, *colon, *last;
	int several;

	if (!url || strncmp(url, "mysql://", 8) != 0)
		return 0;
	p = url + 8;
	last = strrchr(p, '@');
	if (!last)
		return 0;
	at = userinfo_end(p, &several);
	if (!at || several)
		at = last;	/* unsure which '@' was meant: hide all that could be secret */
	colon = memchr(p, ':', (size_t)(at - p));
	if (!colon || colon + 1 == at)
		return 0;
	*off = (size_t)(colon + 1 - url);
	*len = (size_t)(at - colon - 1);
	return 1;
}

int sl_dsn_parse(struct sl_dsn *d, const char *url, const char *password_env,
		 struct sl_err *err)
{
	const char *p, *at;
	char *pwfile = NULL;
	int rc = 0, several;

	memset(d, 0, sizeof(*d));
	if (!url || strncmp(url, "mysql://", 8) != 0)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad url: must start with mysql:// (mysql://user@host:port/db)");
	p = url + 8;
	if (!strchr(p, '@'))
		return sl_err_set(err, -SL_EINVAL_ARG, "bad url: no user (mysql://user@host:port/db)");
	at = userinfo_end(p, &several);
	if (several)
			return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad url: more than one '@' could end the user name and password: percent-encode '@', ':', '/' and '?' in the password, database and parameters as %%40, %%3A, %%2F, %%3F");
	/* None fits: the last '@' gives the error, and what follows it
	 * cannot hold the password, which lies before the true '@'. */
	rc = parse_at(d, p, at ? at : strrchr(p, '@'), &pwfile, err);
	if (rc)
		goto out;
	if (pwfile && (rc = read_password_file(d, pwfile, err)))
		goto out;
	if (password_env) {
		const char *pw = getenv(password_env);

		if (pw && *pw) {	/* empty is unset: it never hides the URL's or file's password */
			free(d->password);
			d->password = sl_xstrdup(pw);
		}
	}
out:
	free(pwfile);
	if (rc)
		sl_dsn_release(d);
	return rc;
}

void sl_dsn_release(struct sl_dsn *d)
{
	if (!d)
		return;
	if (d->password)
		explicit_bzero(d->password, strlen(d->password));	/* a memset the compiler may drop */
	free(d->user);
	free(d->password);
	free(d->host);
	free(d->db);
	free(d->socket);
	free(d->ssl_ca);
	free(d->ssl_cert);
	free(d->ssl_key);
	memset(d, 0, sizeof(*d));
}

char *sl_dsn_redacted(const struct sl_dsn *d, char *out, size_t n)
{
	if (d->socket)
		snprintf(out, n, "mysql://%s@%s/%s?socket=%s", d->user ? d->user : "",
			 d->host ? d->host : "", d->db ? d->db : "", d->socket);
	else if (d->host && strchr(d->host, ':'))	/* IPv6: the port must stay apart */
		snprintf(out, n, "mysql://%s@[%s]:%u/%s", d->user ? d->user : "", d->host,
			 d->port ? d->port : 3306, d->db ? d->db : "");
	else
		snprintf(out, n, "mysql://%s@%s:%u/%s", d->user ? d->user : "",
			 d->host ? d->host : "", d->port ? d->port : 3306, d->db ? d->db : "");
	return out;
}
