/* sl_dsn.c - parse mysql:// URLs and find the password without ever printing it. */
#include "sl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

	if (!f) {
		int e = errno;
		return sl_err_set(err, -e, "cannot open password file '%s': %s", path, strerror(e));
	}
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	n = strcspn(line, "\r\n");
	free(d->password);
	d->password = sl_xstrndup(line, n);
	return 0;
}

int sl_dsn_parse(struct sl_dsn *d, const char *url, const char *password_env,
		 struct sl_err *err)
{
	const char *p, *at, *hostend, *slash, *q, *colon;
	char *pwfile = NULL;
	int rc = 0;

	memset(d, 0, sizeof(*d));
	if (!url || strncmp(url, "mysql://", 8) != 0)
		return sl_err_set(err, -SL_EINVAL_ARG,
				  "bad url: must start with mysql:// (mysql://user@host:port/db)");
	p = url + 8;
	hostend = p + strcspn(p, "/?");
	at = NULL;
	for (const char *s = p; s < hostend; s++)
		if (*s == '@')
			at = s;	/* the last @ before the host part */
	if (!at) {
		rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: no user (mysql://user@host:port/db)");
		goto out;
	}
	colon = memchr(p, ':', (size_t)(at - p));
	d->user = pct_decode(p, (size_t)((colon ? colon : at) - p));
	if (colon)
		d->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
	if (!d->user || (colon && !d->password) || !d->user[0]) {
		rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad or empty user name");
		goto out;
	}
	p = at + 1;
	if (*p == '[') {	/* [::1]:port */
		const char *rb = memchr(p, ']', (size_t)(hostend - p));

		if (!rb) {
			rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: unclosed '[' in host");
			goto out;
		}
		d->host = sl_xstrndup(p + 1, (size_t)(rb - p - 1));
		colon = rb + 1 < hostend && rb[1] == ':' ? rb + 1 : NULL;
	} else {
		colon = memchr(p, ':', (size_t)(hostend - p));
		d->host = sl_xstrndup(p, (size_t)((colon ? colon : hostend) - p));
	}
	if (colon) {
		char *end;
		unsigned long port = strtoul(colon + 1, &end, 10);

		if (end != hostend || port == 0 || port > 65535) {
			rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad port '%.*s'",
					(int)(hostend - colon - 1), colon + 1);
			goto out;
		}
		d->port = (unsigned)port;
	}
	slash = *hostend == '/' ? hostend : NULL;
	q = strchr(hostend, '?');
	if (slash) {
		const char *dbend = q ? q : slash + strlen(slash);

		if (dbend > slash + 1) {
			d->db = pct_decode(slash + 1, (size_t)(dbend - slash - 1));
			if (!d->db) {
				rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad %%-escape in database name");
				goto out;
			}
		}
	}
	for (const char *s = q ? q + 1 : NULL; s && *s;) {
		const char *amp = s + strcspn(s, "&"), *eq = memchr(s, '=', (size_t)(amp - s));
		char *val;
		size_t kl;

		if (!eq) {
			rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: parameter '%.*s' has no value",
					(int)(amp - s), s);
			goto out;
		}
		kl = (size_t)(eq - s);
		val = pct_decode(eq + 1, (size_t)(amp - eq - 1));
		if (!val) {
			rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: bad %%-escape in '%.*s'", (int)kl, s);
			goto out;
		}
#define KEY(k) (kl == strlen(k) && !memcmp(s, k, kl))
		if (KEY("socket")) { free(d->socket); d->socket = val; }
		else if (KEY("ssl-ca")) { free(d->ssl_ca); d->ssl_ca = val; }
		else if (KEY("ssl-cert")) { free(d->ssl_cert); d->ssl_cert = val; }
		else if (KEY("ssl-key")) { free(d->ssl_key); d->ssl_key = val; }
		else if (KEY("password-file")) { free(pwfile); pwfile = val; }
		else {
			free(val);
			rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: unknown parameter '%.*s'", (int)kl, s);
			goto out;
		}
#undef KEY
		s = *amp ? amp + 1 : amp;
	}
	if (!d->host[0]) {
		if (!d->socket) {
			rc = sl_err_set(err, -SL_EINVAL_ARG, "bad url: no host and no socket");
			goto out;
		}
		free(d->host);
		d->host = sl_xstrdup("localhost");
	}
	if (pwfile && (rc = read_password_file(d, pwfile, err)))
		goto out;
	if (password_env) {
		const char *pw = getenv(password_env);

		if (pw) {
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
		memset(d->password, 0, strlen(d->password));
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
	else
		snprintf(out, n, "mysql://%s@%s:%u/%s", d->user ? d->user : "",
			 d->host ? d->host : "", d->port ? d->port : 3306, d->db ? d->db : "");
	return out;
}
