/* sluice.c - main(): find the subcommand in the table and run it. */
#include "cmd.h"
#include "ddl.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "banned.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* One line per subcommand, sorted by name. */
static const struct cmd commands[] = {
	{ "capture", cmd_capture, "read the source binlog into segments" },
	{ "inspect", cmd_inspect, "print the records of segments as text or JSON" },
	{ "migrate", cmd_migrate, "move a live database: precheck, snapshot, load, changes, verify" },
	{ "switchover", cmd_switchover, "switch writes to the destination; reverse sync to the source" },
	{ "pack", cmd_pack, "bundle sealed segments and a manifest for air-gapped transfer" },
	{ "precheck", cmd_precheck, "check source, destination and disk before a migration" },
	{ "purge", cmd_purge, "remove old segments every registered consumer has passed" },
	{ "receive", cmd_receive, "rebuild segments shipped to NATS JetStream in a stream directory" },
	{ "replay", cmd_replay, "apply segments to the destination, exactly once" },
	{ "schema", cmd_schema, "print the schema objects a snapshot recorded (DIR/snapshot)" },
	{ "ship", cmd_ship, "publish sealed segments to NATS JetStream for other sites" },
	{ "snapshot", cmd_snapshot, "read the source's tables at one consistent position into DIR/snapshot" },
	{ "status", cmd_status, "stream identity, head, size and each consumer's lag" },
	{ "unpack", cmd_unpack, "check a bundle whole and add its segments to a stream directory" },
	{ "verify", cmd_verify, "compare source and destination; report and fix differences" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: sluice <command> [options]   (sluice <command> -h for its options)\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nURLs: mysql://user@host:port/db or mysql://user@localhost/?socket=PATH\n"
		   "Passwords: SLUICE_SOURCE_PASSWORD / SLUICE_DEST_PASSWORD, ?password-file=PATH,\n"
		   "or the URL; never printed or logged.\n"
		   "ship/receive: nats://[user@]host:port[,host:port...]/NAME, the password in\n"
		   "SLUICE_NATS_PASSWORD only.\n"
		   "Exit status: 0 success, 1 a verification difference, 2 an error.\n");
}

int cmd_fail(const char *name, const struct sl_err *err)
{
	fprintf(stderr, "sluice %s: %s\n", name, err->msg[0] ? err->msg : sl_strerror(err->code));
	return 2;
}

int cmd_usage_error(const char *name, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "sluice %s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

int cmd_parse(struct sl_opt_cmd *c, int argc, char **argv)
{
	struct sl_err err = SL_ERR_INIT;
	int rc = sl_opt_parse(c, argc, argv, &err);

	if (rc == SL_OPT_HELP) {
		sl_opt_help(c, stdout);
		return 0;
	}
	if (rc)
		return cmd_usage_error(c->name, "%s", err.msg);
	if (SL_DEBUG >= sl_log_level || sl_log_enabled(SL_DEBUG, "cli")) {
		struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);

		sl_opt_format(c, &b);
		sl_log(SL_DEBUG, "cli", "%s options: %s", c->name, b.len ? sl_buf_cstr(&b) : "(none)");
		sl_buf_release(&b);
	}
	return CMD_GO_ON;
}

int cmd_unexpected(const struct sl_opt_cmd *c)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	int rc;

	sl_opt_put_redacted(&b, c->args_given.n ? c->args_given.v[0] : "");
	rc = cmd_usage_error(c->name, "unexpected argument '%s'", sl_buf_cstr(&b));
	sl_buf_release(&b);
	return rc;
}

int cmd_dialect_check(const char *value, struct sl_err *err)
{
	enum ddl_dialect d;

	return ddl_dialect_parse(value, &d, err);
}

/* A password given in a URL (mysql://user:secret@host/) is still in our
 * argv for `ps` to show: work on a private copy of each such argument and
 * overwrite the password in the original with 'x' (as the mysql client does). */
static void hide_url_passwords(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		char *u = strstr(argv[i], "mysql://"), *copy;
		size_t off, len;

		if (!u || !sl_dsn_secret_span(u, &off, &len))
			continue;
		copy = sl_xstrdup(argv[i]);
		memset(u + off, 'x', len);
		argv[i] = copy;	/* lives until exit */
	}
}

int main(int argc, char **argv)
{
	const char *name = argc > 1 ? argv[1] : NULL;
	struct sl_err err;
	int rc;

	/* OpenSSL without its exit-time cleanup, asked for before anything
	 * (libmariadb, nats.c, our SHA-256) initialises it: that cleanup frees
	 * OpenSSL's global and per-thread state while other threads may still
	 * be ending (nats.c's draw NUIDs from RAND_bytes()), and receive once
	 * died in it after a clean SIGTERM (CI's test_ship under TSan: exit ->
	 * OPENSSL_cleanup -> OPENSSL_sk_pop_free, SEGV). The memory goes with
	 * the process anyway. */
	OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, NULL);
	hide_url_passwords(argc, argv);
	if (sl_harden_process(&err)) {
		fprintf(stderr, "sluice: %s\n", err.msg);
		return 2;
	}
	sl_log_init();
	if (!name || !strcmp(name, "help") || !strcmp(name, "-h") || !strcmp(name, "--help")) {
		if (name && !strcmp(name, "help") && argc > 2) {
			char *hargv[] = { argv[2], (char *)"-h", NULL };

			for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
				if (!strcmp(commands[i].name, argv[2]))
					return commands[i].fn(2, hargv);
		}
		usage(name ? stdout : stderr);
		return name ? 0 : 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		struct sl_err ferr = SL_ERR_INIT;

		if (strcmp(commands[i].name, name))
			continue;
		if (sl_failpoint_check(&ferr))	/* a test must not arm a point that does not exist */
			return cmd_fail(name, &ferr);
		sl_install_stop_handlers();
		rc = commands[i].fn(argc - 1, argv + 1);
		if (fflush(stdout) || ferror(stdout)) {
			fprintf(stderr, "sluice %s: cannot write standard output: %s\n", name, strerror(errno));
			return 2;
		}
		return rc;
	}
	fprintf(stderr, "sluice: unknown command '%s' (see 'sluice help')\n", name);
	return 2;
}
