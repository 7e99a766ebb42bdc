/* test_common.c - unit suite for common/: DSN parsing and redaction, buffers, CRC32C, sizes. */
#include <CUnit/Basic.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "sl.h"

static void test_common__dsn_full(void)
{
	struct sl_dsn d;
	struct sl_err err = SL_ERR_INIT;
	char red[256];

	unsetenv("SL_TEST_PW");
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, "mysql://app%40x:p%3Ass@db.example:3307/shop?ssl-ca=/ca.pem",
					   "SL_TEST_PW", &err), 0);
	CU_ASSERT_STRING_EQUAL(d.user, "app@x");
	CU_ASSERT_STRING_EQUAL(d.password, "p:ss");
	CU_ASSERT_STRING_EQUAL(d.host, "db.example");
	CU_ASSERT_EQUAL(d.port, 3307);
	CU_ASSERT_STRING_EQUAL(d.db, "shop");
	CU_ASSERT_STRING_EQUAL(d.ssl_ca, "/ca.pem");
	sl_dsn_redacted(&d, red, sizeof(red));
	CU_ASSERT_PTR_NULL(strstr(red, "p:ss"));
	CU_ASSERT_PTR_NOT_NULL(strstr(red, "db.example:3307"));
	sl_dsn_release(&d);
	sl_dsn_release(&d);	/* idempotent */
}

static void test_common__dsn_socket_and_env_password(void)
{
	struct sl_dsn d;
	struct sl_err err = SL_ERR_INIT;

	setenv("SL_TEST_PW", "from-env", 1);
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, "mysql://root:inurl@/?socket=/tmp/s.sock", "SL_TEST_PW", &err), 0);
	CU_ASSERT_STRING_EQUAL(d.host, "localhost");
	CU_ASSERT_STRING_EQUAL(d.socket, "/tmp/s.sock");
	CU_ASSERT_STRING_EQUAL(d.password, "from-env");
	CU_ASSERT_PTR_NULL(d.db);
	sl_dsn_release(&d);
	unsetenv("SL_TEST_PW");
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, "mysql://u@[::1]:3310/", NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(d.host, "::1");
	CU_ASSERT_EQUAL(d.port, 3310);
	CU_ASSERT_PTR_NULL(d.password);
	sl_dsn_release(&d);
}

/* An IPv6 host prints in brackets, so its port stays apart ([::1]:3310). */
static void test_common__dsn_ipv6_redacted(void)
{
	struct sl_dsn d;
	struct sl_err err = SL_ERR_INIT;
	char red[256];

	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, "mysql://u:pw@[::1]:3310/db", NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(sl_dsn_redacted(&d, red, sizeof(red)), "mysql://u@[::1]:3310/db");
	sl_dsn_release(&d);
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, "mysql://u@[fe80::1]/", NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(sl_dsn_redacted(&d, red, sizeof(red)), "mysql://u@[fe80::1]:3306/");
	sl_dsn_release(&d);
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, "mysql://u@10.0.0.1:3307/", NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(sl_dsn_redacted(&d, red, sizeof(red)), "mysql://u@10.0.0.1:3307/");
	sl_dsn_release(&d);
}

/* ssl-mode: one TLS policy for every connection (README "URLs and passwords"). */
static void test_common__dsn_ssl_mode(void)
{
	static const struct { const char *url; int rc; enum sl_ssl_mode mode; } cases[] = {
		{ "mysql://u@h/", 0, SL_SSL_DISABLED },
		{ "mysql://u@h/?ssl-ca=/ca.pem", 0, SL_SSL_VERIFY_IDENTITY },
		{ "mysql://u@h/?ssl-cert=/c.pem&ssl-key=/k.pem", 0, SL_SSL_VERIFY_IDENTITY },
		{ "mysql://u@h/?ssl-mode=required", 0, SL_SSL_REQUIRED },
		{ "mysql://u@h/?ssl-mode=verify-identity", 0, SL_SSL_VERIFY_IDENTITY },
		{ "mysql://u@h/?ssl-ca=/ca.pem&ssl-mode=verify-ca", 0, SL_SSL_VERIFY_CA },
		{ "mysql://u@h/?ssl-mode=required&ssl-ca=/ca.pem", 0, SL_SSL_REQUIRED },
		{ "mysql://u@h/?ssl-mode=disabled", 0, SL_SSL_DISABLED },
		{ "mysql://u@h/?ssl-mode=verify-ca", -SL_EINVAL_ARG, 0 },	/* needs ssl-ca */
		{ "mysql://u@h/?ssl-mode=disabled&ssl-ca=/ca.pem", -SL_EINVAL_ARG, 0 },
		{ "mysql://u@h/?ssl-mode=preferred", -SL_EINVAL_ARG, 0 },
		{ "mysql://u@h/?ssl-mode=VERIFY_IDENTITY", -SL_EINVAL_ARG, 0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sl_dsn d;
		struct sl_err err = SL_ERR_INIT;
		int rc = sl_dsn_parse(&d, cases[i].url, NULL, &err);

		CU_ASSERT_EQUAL(rc, cases[i].rc);
		if (rc == 0) {
			CU_ASSERT_EQUAL(d.ssl_mode, cases[i].mode);
			sl_dsn_release(&d);
		} else {
			CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "ssl-mode"));
		}
	}
	CU_ASSERT_STRING_EQUAL(sl_ssl_mode_name(SL_SSL_VERIFY_CA), "verify-ca");
}

/* An empty SLUICE_*_PASSWORD is unset, not an empty password that silently
 * overrides the one in the URL or the password file. */
static void test_common__dsn_empty_env_password_is_unset(void)
{
	struct sl_dsn d;
	struct sl_err err = SL_ERR_INIT;
	char path[] = "/tmp/sl-pwfile-XXXXXX", *url;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, "from-file\n", 10), 10);
	close(fd);
	setenv("SL_TEST_PW", "", 1);
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, "mysql://u:inurl@h/", "SL_TEST_PW", &err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.password);
	CU_ASSERT_STRING_EQUAL(d.password, "inurl");
	sl_dsn_release(&d);
	url = sl_xasprintf("mysql://u@h/?password-file=%s", path);
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, url, "SL_TEST_PW", &err), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d.password);
	CU_ASSERT_STRING_EQUAL(d.password, "from-file");
	sl_dsn_release(&d);
	free(url);
	unlink(path);
	unsetenv("SL_TEST_PW");
}

/* A password file that group or others may read is refused, naming the
 * file and its mode; 0600 is read. */
static void test_common__dsn_password_file_mode(void)
{
	struct sl_dsn d;
	struct sl_err err = SL_ERR_INIT;
	char path[] = "/tmp/sl-pwfile-XXXXXX", *url;
	int fd = mkstemp(path);

	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_EQUAL_FATAL(write(fd, "modepw\n", 7), 7);
	close(fd);
	url = sl_xasprintf("mysql://u@h/?password-file=%s", path);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0644), 0);
	CU_ASSERT(sl_dsn_parse(&d, url, NULL, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, path));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "0644"));
	CU_ASSERT_PTR_NULL(strstr(err.msg, "modepw"));
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0640), 0);
	CU_ASSERT(sl_dsn_parse(&d, url, NULL, &err) < 0);
	CU_ASSERT_EQUAL_FATAL(chmod(path, 0600), 0);
	CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, url, NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(d.password, "modepw");
	sl_dsn_release(&d);
	free(url);
	unlink(path);
}

static void test_common__dsn_errors_never_show_password(void)
{
	static const char *bad[] = {
		"postgres://u@h/", "mysql://h:3306/", "mysql://u:secretpw@h:99999/",
		"mysql://u:secretpw@h:12x/", "mysql://u:secretpw@h/?bogus=1", "mysql://u:secretpw@h/%zz",
		"mysql://u:secretpw@/", "mysql://:secretpw@h/",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sl_dsn d;
		struct sl_err err = SL_ERR_INIT;

		CU_ASSERT(sl_dsn_parse(&d, bad[i], NULL, &err) < 0);
		CU_ASSERT(err.msg[0] != 0);
		CU_ASSERT_PTR_NULL(strstr(err.msg, "secretpw"));
		CU_ASSERT_PTR_NULL(d.user);
	}
}

/* A password holding '@', ':', '/' or '?' unescaped: parsed as meant when
 * one '@' fits, refused when several do, and the argv-hiding span (the same
 * rule) covers exactly the password, never leaving a piece of it in ps. */
static void test_common__dsn_reserved_in_password(void)
{
	static const struct {
		const char *url, *pw, *host;
		unsigned port;
	} ok[] = {
		{ "mysql://u:p@ss@db.example:3306/shop", "p@ss", "db.example", 3306 },
		{ "mysql://u:Can@ry/x?y:z@h/shop?socket=/s", "Can@ry/x?y:z", "h", 0 },
		{ "mysql://u:a:b@[::1]:3310/", "a:b", "::1", 3310 },
		{ "mysql://u:@@h/", "@", "h", 0 },
		{ "mysql://u:pw@h:3307/", "pw", "h", 3307 },
	};
	static const char *refused[] = {
		/* both '@' leave a valid rest: which one ends the password? */
		"mysql://u:Secret1@h/db?ssl-ca=/x@y/ca.pem",
		"mysql://u:Secret1@h/Secret1@h/",
		/* none does */
		"mysql://u:Secret1/x@h:99x/", "mysql://u:Secret1@h:Secret1@q:x/",
		"mysql://u:Secret1%zz@h/",
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct sl_dsn d;
		struct sl_err err = SL_ERR_INIT;
		size_t off = 0, len = 0;

		CU_ASSERT_EQUAL_FATAL(sl_dsn_parse(&d, ok[i].url, NULL, &err), 0);
		CU_ASSERT_STRING_EQUAL(d.user, "u");
		CU_ASSERT_STRING_EQUAL(d.password, ok[i].pw);
		CU_ASSERT_STRING_EQUAL(d.host, ok[i].host);
		CU_ASSERT_EQUAL(d.port, ok[i].port);
		CU_ASSERT_EQUAL(sl_dsn_secret_span(ok[i].url, &off, &len), 1);
		CU_ASSERT_EQUAL(len, strlen(ok[i].pw));
		CU_ASSERT_EQUAL(memcmp(ok[i].url + off, ok[i].pw, len), 0);
		sl_dsn_release(&d);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		struct sl_dsn d;
		struct sl_err err = SL_ERR_INIT;
		size_t off = 0, len = 0;
		char hidden[128];

		CU_ASSERT(sl_dsn_parse(&d, refused[i], NULL, &err) < 0);
		CU_ASSERT(err.msg[0] != 0);
		CU_ASSERT_PTR_NULL(strstr(err.msg, "Secret1"));
		CU_ASSERT_PTR_NULL(strstr(err.msg, "ecret"));
		/* hidden from ps: no piece of the password is left */
		CU_ASSERT_EQUAL_FATAL(sl_dsn_secret_span(refused[i], &off, &len), 1);
		snprintf(hidden, sizeof(hidden), "%s", refused[i]);
		memset(hidden + off, 'x', len);
		CU_ASSERT_PTR_NULL(strstr(hidden, "ecret"));
	}
}

static void test_common__buf_limit(void)
{
	struct sl_buf b = SL_BUF_INIT(8);

	CU_ASSERT_EQUAL(sl_buf_add(&b, "1234", 4), 0);
	CU_ASSERT_EQUAL(sl_buf_addf(&b, "%d", 5678), 0);
	CU_ASSERT_EQUAL(b.len, 8);
	CU_ASSERT_EQUAL(sl_buf_addc(&b, 'x'), -SL_ETOOBIG);
	CU_ASSERT_EQUAL(sl_buf_add(&b, "x", 1), -SL_ETOOBIG);
	CU_ASSERT_EQUAL(b.len, 8);
	CU_ASSERT_STRING_EQUAL(sl_buf_cstr(&b), "12345678");
	sl_buf_reset(&b);
	CU_ASSERT_EQUAL(b.len, 0);
	sl_buf_release(&b);
	sl_buf_release(&b);
	CU_ASSERT_PTR_NULL(b.data);
}

static void test_common__crc32c_vectors(void)
{
	uint8_t zeros[32] = { 0 }, big[1000];

	CU_ASSERT_EQUAL(sl_crc32c(0, "123456789", 9), 0xE3069283u);
	CU_ASSERT_EQUAL(sl_crc32c(0, zeros, 32), 0x8A9136AAu);	/* RFC 3720 B.4 */
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	/* incremental equals one shot, at every split point class */
	for (size_t cut = 0; cut < sizeof(big); cut += 37)
		CU_ASSERT_EQUAL(sl_crc32c(sl_crc32c(0, big, cut), big + cut, sizeof(big) - cut),
				sl_crc32c(0, big, sizeof(big)));
}

static void test_common__parse_size(void)
{
	uint64_t v;

	CU_ASSERT(sl_parse_size("64M", &v) == 0 && v == 64ull << 20);
	CU_ASSERT(sl_parse_size("4k", &v) == 0 && v == 4096);
	CU_ASSERT(sl_parse_size("1G", &v) == 0 && v == 1ull << 30);
	CU_ASSERT(sl_parse_size("123", &v) == 0 && v == 123);
	CU_ASSERT(sl_parse_size("", &v) < 0);
	CU_ASSERT(sl_parse_size("-1", &v) < 0);
	CU_ASSERT(sl_parse_size("12Q", &v) < 0);
	CU_ASSERT(sl_parse_size("99999999999999999999G", &v) < 0);
	/* ages (purge --keep-age, capture --retain-age), in seconds */
	CU_ASSERT(sl_parse_age("30", &v) == 0 && v == 30);
	CU_ASSERT(sl_parse_age("30s", &v) == 0 && v == 30);
	CU_ASSERT(sl_parse_age("15m", &v) == 0 && v == 900);
	CU_ASSERT(sl_parse_age("12h", &v) == 0 && v == 43200);
	CU_ASSERT(sl_parse_age("7d", &v) == 0 && v == 604800);
	CU_ASSERT(sl_parse_age("", &v) < 0);
	CU_ASSERT(sl_parse_age("-5", &v) < 0);
	CU_ASSERT(sl_parse_age("5ms", &v) < 0);
	CU_ASSERT(sl_parse_age("99999999999999999999d", &v) < 0);
	CU_ASSERT(sl_parse_age("999999999999999999d", &v) < 0);
}

static void test_common__err_prefix(void)
{
	struct sl_err err = SL_ERR_INIT;

	CU_ASSERT_EQUAL(sl_err_set(&err, -SL_ECORRUPT, "bad crc at offset %d", 42), -SL_ECORRUPT);
	sl_err_prefix(&err, "'%s'", "f.seg");
	CU_ASSERT_STRING_EQUAL(err.msg, "'f.seg': bad crc at offset 42");
	CU_ASSERT_STRING_EQUAL(sl_strerror(-SL_ECORRUPT), "corrupt data");
}

static int file_is(const char *path, const char *want)
{
	char got[256];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return 0;
	n = fread(got, 1, sizeof(got) - 1, f);
	fclose(f);
	got[n] = 0;
	return strcmp(got, want) == 0;
}

/* Run sl_write_file_atomic() with the file size limited to limit bytes, as
 * a full disk or quota would: write(2) returns a short count, then EFBIG. */
static int write_limited(const char *path, const char *data, rlim_t limit, struct sl_err *err)
{
	struct rlimit old, lim;
	int rc;

	getrlimit(RLIMIT_FSIZE, &old);
	lim = old;
	lim.rlim_cur = limit;
	signal(SIGXFSZ, SIG_IGN);
	setrlimit(RLIMIT_FSIZE, &lim);
	errno = 0;
	rc = sl_write_file_atomic(path, data, strlen(data), 0600, err);
	setrlimit(RLIMIT_FSIZE, &old);
	return rc;
}

static void test_common__write_file_atomic(void)
{
	char root[] = "/tmp/sluice-common-XXXXXX", path[128], tmp[128], bad[160];
	struct sl_err err = SL_ERR_INIT;
	struct stat st;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
	snprintf(path, sizeof(path), "%s/f", root);
	snprintf(tmp, sizeof(tmp), "%s/.f.tmp", root);
	/* written whole, with its mode, and no temp file left */
	CU_ASSERT_EQUAL(sl_write_file_atomic(path, "first\n", 6, 0640, &err), 0);
	CU_ASSERT_TRUE(file_is(path, "first\n"));
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	/* replaced whole */
	CU_ASSERT_EQUAL(sl_write_file_atomic(path, "second\n", 7, 0600, &err), 0);
	CU_ASSERT_TRUE(file_is(path, "second\n"));
	/* a short write (the disk fills after 4 bytes) is an error naming the
	 * file, and the old contents stay */
	CU_ASSERT_TRUE(write_limited(path, "a longer third version\n", 4, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot write"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, ".f.tmp"));
	CU_ASSERT_TRUE(file_is(path, "second\n"));
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	/* a directory that cannot be written (here: does not exist) */
	snprintf(bad, sizeof(bad), "%s/missing/f", root);
	err.msg[0] = 0;
	CU_ASSERT_TRUE(sl_write_file_atomic(bad, "x", 1, 0600, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "missing/.f.tmp"));
	/* a file where a directory should be */
	snprintf(bad, sizeof(bad), "%s/f/g", root);
	CU_ASSERT_TRUE(sl_write_file_atomic(bad, "x", 1, 0600, &err) < 0);
	unlink(path);
	rmdir(root);
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("common", NULL, NULL);
	CU_add_test(s, "dsn: all parts", test_common__dsn_full);
	CU_add_test(s, "dsn: socket, ipv6, env password", test_common__dsn_socket_and_env_password);
	CU_add_test(s, "dsn: an empty env password is unset", test_common__dsn_empty_env_password_is_unset);
	CU_add_test(s, "dsn: a password file others can read is refused", test_common__dsn_password_file_mode);
	CU_add_test(s, "dsn: errors never show the password", test_common__dsn_errors_never_show_password);
	CU_add_test(s, "dsn: an IPv6 host prints in brackets", test_common__dsn_ipv6_redacted);
	CU_add_test(s, "dsn: ssl-mode", test_common__dsn_ssl_mode);
	CU_add_test(s, "dsn: '@', ':', '/', '?' in a password", test_common__dsn_reserved_in_password);
	CU_add_test(s, "buf: hard limit", test_common__buf_limit);
	CU_add_test(s, "crc32c: known vectors", test_common__crc32c_vectors);
	CU_add_test(s, "parse_size", test_common__parse_size);
	CU_add_test(s, "err: prefix", test_common__err_prefix);
	CU_add_test(s, "write_file_atomic: short write, missing dir", test_common__write_file_atomic);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() + CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
