/* test_options.c - unit suite for the option tables: common/sl_opt.c with a test table, and every
 * subcommand's table as the user meets it (the sluice binary run with bad options, no server). */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rep.h"
#include "sl.h"
#include "sl_opt.h"
#include "ver.h"

/* ---- common/sl_opt.c against a table of every type ---- */

#define LOCAL 0x1u
#define REMOTE 0x2u

struct vals {
	const char *url, *dir, *name, *key;
	int follow, fast;
	uint32_t ms;
	uint8_t small;
	uint64_t size, age_s, dur_ms;
	struct sl_opt_list files;
};

static struct vals v;
static struct sl_opt opts[] = {
	{ "url", SL_OPT_STR, SL_OPT_TARGET(v.url), .arg = "URL", .modes = LOCAL, .flags = SL_OPT_URL | SL_OPT_REQUIRED,
	  .help = "where" },
	{ "files", SL_OPT_LIST, SL_OPT_TARGET(v.files), .arg = "FILE...", .modes = REMOTE,
	  .flags = SL_OPT_MODE | SL_OPT_REQUIRED, .help = "files" },
	{ "dir", SL_OPT_STR, SL_OPT_TARGET(v.dir), .arg = "DIR", .flags = SL_OPT_REQUIRED, .help = "a dir" },
	{ "follow", SL_OPT_FLAG, SL_OPT_TARGET(v.follow), .modes = LOCAL, .help = "keep going" },
	{ "ms", SL_OPT_MS, SL_OPT_TARGET(v.ms), .min = 1, .max = 60000, .def = "10", .help = "interval" },
	{ "small", SL_OPT_UINT, SL_OPT_TARGET(v.small), .needs = "follow|fast", .help = "one byte" },
	{ "size", SL_OPT_SIZE, SL_OPT_TARGET(v.size), .min = 4096, .def = "64M", .help = "size" },
	{ "age", SL_OPT_AGE, SL_OPT_TARGET(v.age_s), .conflicts = "fast", .help = "age" },
	{ "dur", SL_OPT_DURATION, SL_OPT_TARGET(v.dur_ms), .min = 1, .max = 86400000, .help = "duration" },
	{ "fast", SL_OPT_FLAG, SL_OPT_TARGET(v.fast), .group = 1, .help = "fast" },
	{ "name", SL_OPT_STR, SL_OPT_TARGET(v.name), .group = 1, .check = sl_consumer_name_check,
	  .help = "a consumer" },
	{ "key", SL_OPT_STR, SL_OPT_TARGET(v.key), .flags = SL_OPT_SECRET, .help = "a secret" },
};
static const char *const modes[] = { "without --files", "with --files", NULL };
static struct sl_opt_cmd cmd = { .name = "t", .args = "ARG", .modes = modes, .opts = opts,
				 .n = sizeof(opts) / sizeof(opts[0]) };

/* Parses a NULL-terminated list of arguments; err gets the message. */
static int parse(struct sl_err *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	memset(&v, 0, sizeof(v) - sizeof(v.files));	/* the list is reset by sl_opt_parse() */
	argv[argc++] = (char *)"t";
	va_start(ap, err);
	while (argc < 31 && (argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	argv[argc] = NULL;
	memset(err, 0, sizeof(*err));
	return sl_opt_parse(&cmd, argc, argv, err);
}

static void test_options__values_defaults_and_forms(void)
{
	struct sl_err err;

	CU_ASSERT_EQUAL_FATAL(parse(&err, "--url", "mysql://u@h/", "pos1", "--dir=/d", "--ms", "250", "pos2",
				    "--size=4k", "--age", "2h", "--dur", "500ms", "--small", "7", "--follow", NULL), 0);
	CU_ASSERT_STRING_EQUAL(v.url, "mysql://u@h/");
	CU_ASSERT_STRING_EQUAL(v.dir, "/d");
	CU_ASSERT_EQUAL(v.ms, 250);
	CU_ASSERT_EQUAL(v.size, 4096);
	CU_ASSERT_EQUAL(v.age_s, 7200);
	CU_ASSERT_EQUAL(v.dur_ms, 500);
	CU_ASSERT_EQUAL(v.small, 7);
	CU_ASSERT_EQUAL(v.follow, 1);
	CU_ASSERT_EQUAL(cmd.mode, LOCAL);
	CU_ASSERT_EQUAL_FATAL(cmd.args_given.n, 2);	/* positionals anywhere, in order */
	CU_ASSERT_STRING_EQUAL(cmd.args_given.v[0], "pos1");
	CU_ASSERT_STRING_EQUAL(cmd.args_given.v[1], "pos2");
	/* defaults are stored in the target; given counts only the command line */
	CU_ASSERT_EQUAL_FATAL(parse(&err, "--url", "mysql://u@h/", "--dir", "/d", NULL), 0);
	CU_ASSERT_EQUAL(v.ms, 10);
	CU_ASSERT_EQUAL(v.size, 64ull << 20);
	CU_ASSERT_EQUAL(sl_opt_find(&cmd, "ms")->given, 0);
	CU_ASSERT_STRING_EQUAL(sl_opt_find(&cmd, "ms")->text, "10");
	/* the last of a repeated option wins; a list collects; "--" ends the options */
	CU_ASSERT_EQUAL_FATAL(parse(&err, "--dir", "/a", "--files", "f1", "--dir", "/b", "f2", "--files=f3",
				    "--", "--ms", "-h", NULL), 0);
	CU_ASSERT_STRING_EQUAL(v.dir, "/b");
	CU_ASSERT_EQUAL(cmd.mode, REMOTE);
	CU_ASSERT_EQUAL_FATAL(v.files.n, 2);
	CU_ASSERT_STRING_EQUAL(v.files.v[1], "f3");
	CU_ASSERT_EQUAL_FATAL(cmd.args_given.n, 3);
	CU_ASSERT_STRING_EQUAL(cmd.args_given.v[0], "f2");
	CU_ASSERT_STRING_EQUAL(cmd.args_given.v[1], "--ms");
	CU_ASSERT_STRING_EQUAL(cmd.args_given.v[2], "-h");
	/* a value that starts with "--" takes the = form */
	CU_ASSERT_EQUAL_FATAL(parse(&err, "--url=--odd", "--dir", "-", NULL), 0);
	CU_ASSERT_STRING_EQUAL(v.url, "--odd");
	CU_ASSERT_STRING_EQUAL(v.dir, "-");
	/* -h anywhere before "--" is help, even where a value was expected */
	CU_ASSERT_EQUAL(parse(&err, "--bogus", "-h", NULL), SL_OPT_HELP);
	CU_ASSERT_EQUAL(parse(&err, "--url", "-h", NULL), SL_OPT_HELP);
	CU_ASSERT_EQUAL(parse(&err, "--help", NULL), SL_OPT_HELP);
	sl_opt_release(&cmd);
	sl_opt_release(&cmd);	/* idempotent */
	CU_ASSERT_EQUAL(v.files.n, 0);
}

struct bad {
	const char *args[8];
	const char *want;	/* a substring of the one-line message */
};

static void test_options__errors_name_the_option(void)
{
	static const struct bad cases[] = {
		{ { "--dir", "/d", "--url", NULL }, "option '--url' needs a value" },
		{ { "--url", "--dir", "/d", NULL }, "option '--url' needs a value" },
		{ { "--url", "x", "--dir", "/d", "--follow=1", NULL }, "option '--follow' takes no value" },
		{ { "--url", "x", "--dir", "/d", "--nope", NULL }, "unknown option '--nope'" },
		{ { "--url", "x", "--dir", "/d", "--fol", NULL }, "unknown option '--fol'" },	/* no abbreviations */
		{ { "--url", "x", "--dir", "/d", "-x", NULL }, "unknown option '-x'" },
		{ { "--url", "x", "--dir", "", NULL }, "option '--dir' has an empty value" },
		{ { "--url", "x", "--dir", "/d", "--ms", "-1", NULL }, "option '--ms' wants milliseconds from 1 to 60000, not '-1'" },
		{ { "--url", "x", "--dir", "/d", "--ms", "0", NULL }, "from 1 to 60000, not '0'" },
		{ { "--url", "x", "--dir", "/d", "--ms", "60001", NULL }, "from 1 to 60000" },
		{ { "--url", "x", "--dir", "/d", "--ms", "5x", NULL }, "not '5x'" },
		{ { "--url", "x", "--dir", "/d", "--ms", "99999999999999999999", NULL }, "from 1 to 60000" },
		{ { "--url", "x", "--dir", "/d", "--follow", "--small", "256", NULL }, "'--small' wants a whole number from 0 to 255" },
		{ { "--url", "x", "--dir", "/d", "--size", "1k", NULL }, "'--size' wants a size of at least 4K" },
		{ { "--url", "x", "--dir", "/d", "--age", "3w", NULL }, "'--age' wants an age" },
		{ { "--url", "x", "--dir", "/d", "--dur", "0", NULL }, "'--dur' wants a duration from 1ms to 1d" },
		{ { "--url", "x", "--dir", "/d", "--dur", "2d", NULL }, "from 1ms to 1d" },
		{ { "--url", "x", "--dir", "/d", "--name", "../x", NULL }, "option '--name': bad consumer name '../x'" },
		{ { "--files", "f", "--dir", "/d", "--follow", NULL }, "option '--follow' has no effect with --files" },
		{ { "--files", "f", "--dir", "/d", "--url", "x", NULL }, "option '--url' has no effect with --files" },
		{ { "--url", "x", "--dir", "/d", "--small", "1", NULL }, "option '--small' has no effect without --follow or --fast" },
		{ { "--url", "x", "--dir", "/d", "--fast", "--age", "1", NULL }, "option '--age' has no effect with --fast" },
		{ { "--url", "x", "--dir", "/d", "--fast", "--name", "n", NULL }, "--fast and --name exclude each other" },
		{ { "--url", "x", NULL }, "--dir is required" },
		{ { NULL }, "--url and --dir are required" },
		{ { "--files", "f", NULL }, "--dir is required" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *const *a = cases[i].args;
		struct sl_err err;
		int rc = parse(&err, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);

		CU_ASSERT_EQUAL(rc, -SL_EINVAL_ARG);
		if (!strstr(err.msg, cases[i].want))
			fprintf(stderr, "\ncase %zu: want '%s', got '%s'\n", i, cases[i].want, err.msg);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].want));
		CU_ASSERT_PTR_NULL(strchr(err.msg, '\n'));
	}
	sl_opt_release(&cmd);
}

static void test_options__secrets_stay_hidden(void)
{
	struct sl_buf b = SL_BUF_INIT(SL_BUF_UNLIMITED);
	struct sl_err err;

	/* neither a bad secret value nor what follows '=' of an unknown option is quoted */
	CU_ASSERT(parse(&err, "--url", "x", "--dir", "/d", "--nope=hunter2", NULL) < 0);
	CU_ASSERT_PTR_NULL(strstr(err.msg, "hunter2"));
	CU_ASSERT_EQUAL_FATAL(parse(&err, "--url", "mysql://u:hunter2@h:3306/db", "--dir", "/d", "--key", "hunter3",
				    "--follow", NULL), 0);
	sl_opt_format(&cmd, &b);
	CU_ASSERT_PTR_NULL(strstr(sl_buf_cstr(&b), "hunter"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&b), "--url=mysql://u:xxx@h:3306/db"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&b), "--key=(secret)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&b), "--follow"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sl_buf_cstr(&b), "--ms=10"));	/* defaults too */
	sl_buf_release(&b);
	sl_opt_release(&cmd);
}

static void test_options__help_comes_from_the_table(void)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	sl_opt_help(&cmd, f);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "usage: sluice t ARG --url URL --dir DIR [--follow]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "sluice t ARG --files FILE... --dir DIR"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "[--fast | --name VALUE]"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "(1 to 60000; default 10)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "(at least 4K; default 64M)"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "needs --follow or --fast"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "-h, --help"));
	free(text);
}

static void test_options__duration(void)
{
	uint64_t ms;

	CU_ASSERT(sl_parse_duration_ms("500ms", &ms) == 0 && ms == 500);
	CU_ASSERT(sl_parse_duration_ms("30", &ms) == 0 && ms == 30000);
	CU_ASSERT(sl_parse_duration_ms("15m", &ms) == 0 && ms == 900000);
	CU_ASSERT(sl_parse_duration_ms("2d", &ms) == 0 && ms == 172800000);
	CU_ASSERT(sl_parse_duration_ms("-1s", &ms) < 0);
	CU_ASSERT(sl_parse_duration_ms("1w", &ms) < 0);
	CU_ASSERT(sl_parse_duration_ms("", &ms) < 0);
	CU_ASSERT(sl_parse_duration_ms("99999999999999999d", &ms) < 0);
}

/* ---- the consumer name rule, in the libraries too ---- */

static void test_options__consumer_names_in_libraries(void)
{
	static const char *bad[] = { "../x", ".hidden", "a b", "x/y", "",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" /* 65 */ };
	struct rep_opts ro = { .dir = "/nonexistent-sluice", .dest_url = "mysql://u@127.0.0.1:1/" };
	struct ver_opts vo = { .source_url = "mysql://u@127.0.0.1:1/", .dest_url = "mysql://u@127.0.0.1:1/" };
	struct rep_stats rs;
	struct ver_stats vs;
	struct sl_err err = SL_ERR_INIT;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT(sl_consumer_name_check(bad[i], NULL) < 0);
	CU_ASSERT_EQUAL(sl_consumer_name_check("replica-1.eu_west", NULL), 0);
	CU_ASSERT_EQUAL(sl_consumer_name_check(bad[5] + 1, NULL), 0);	/* 64 */
	/* refused before any connection: the message is about the name */
	ro.consumer = "../x";
	CU_ASSERT(rep_run(&ro, &rs, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "consumer name"));
	ro.consumer = bad[5];
	CU_ASSERT(rep_run(&ro, &rs, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "consumer name"));
	vo.consumer = "../x";
	CU_ASSERT(ver_run(&vo, &vs, &err) < 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "consumer name"));
}

/* ---- every subcommand's table, through the binary ---- */

static char tmpdir[] = "/tmp/sl-options-XXXXXX";

/* Runs sluice with args (NULL-terminated); returns its exit status, stderr in *errtext (malloc'd). */
static int run_sluice(char **errtext, char *const *args)
{
	const char *bin = getenv("SLUICE_BIN") ? getenv("SLUICE_BIN") : SLUICE_BIN;
	char *argv[40], path[300];
	int status, argc = 0, fd;
	pid_t pid;
	FILE *f;
	long n;

	argv[argc++] = (char *)bin;
	while (argc < 39 && (argv[argc] = args[argc - 1]))
		argc++;
	argv[argc] = NULL;
	snprintf(path, sizeof(path), "%s/stderr", tmpdir);
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		close(fd);
		fd = open("/dev/null", O_WRONLY);
		dup2(fd, 1);
		execv(bin, argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	*errtext = calloc(1, (size_t)n + 1);
	if (fread(*errtext, 1, (size_t)n, f) != (size_t)n)
		n = 0;
	fclose(f);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct cli_case {
	const char *args[16];	/* "D" stands for a scratch directory, "U" for an unreachable URL */
	const char *want;
};

static void test_options__cli_refuses_what_it_would_ignore(void)
{
	static const struct cli_case cases[] = {
		/* bounds */
		{ { "capture", "--commit-interval", "-1", "--source", "U", "--dir", "D" }, "'--commit-interval' wants milliseconds from 1 to 60000" },
		{ { "capture", "--commit-interval", "0", "--source", "U", "--dir", "D" }, "'--commit-interval' wants milliseconds from 1 to 60000" },
		{ { "capture", "--server-id", "-1", "--source", "U", "--dir", "D" }, "'--server-id' wants a whole number" },
		{ { "replay", "--poll", "-1", "--follow", "--dir", "D", "--dest", "U" }, "'--poll' wants milliseconds from 1 to 60000" },
		{ { "verify", "--recheck", "1", "--recheck-delay", "0", "--source", "U", "--dest", "U" }, "'--recheck-delay' wants milliseconds from 1 to 3600000" },
		{ { "pack", "D", "--out", "D/b", "--from-seq", "-1" }, "'--from-seq' wants a whole number of at least 1" },
		/* a missing value */
		{ { "capture", "--source" }, "option '--source' needs a value" },
		{ { "replay", "--dir", "D", "--dest" }, "option '--dest' needs a value" },
		{ { "verify", "--source", "--dest", "U" }, "option '--source' needs a value" },
		/* no effect */
		{ { "capture", "--binlog-files", "D/x", "--dir", "D", "--segment-age", "1s" }, "'--segment-age' has no effect with --binlog-files" },
		{ { "capture", "--binlog-files", "D/x", "--dir", "D", "--follow" }, "'--follow' has no effect with --binlog-files" },
		{ { "capture", "--source", "U", "--dir", "D", "--sort-files" }, "'--sort-files' has no effect without --binlog-files" },
		{ { "replay", "--dir", "D", "--dest", "U", "--poll", "50" }, "'--poll' has no effect without --follow" },
		{ { "verify", "--source", "U", "--dest", "U", "--fix-extra" }, "'--fix-extra' has no effect without --fix-sql or --apply-fix" },
		{ { "verify", "--source", "U", "--dest", "U", "--recheck-delay", "5" }, "'--recheck-delay' has no effect without --recheck" },
		{ { "verify", "--source", "U", "--dest", "U", "--recheck", "2", "--dir", "D", "--recheck-delay", "5" }, "'--recheck-delay' has no effect with --dir" },
		{ { "verify", "--source", "U", "--dest", "U", "--dir", "D" }, "'--dir' has no effect without --recheck" },
		{ { "verify", "--source", "U", "--dest", "U", "--consumer", "c" }, "'--consumer' has no effect without --dir" },
		{ { "verify", "--segments", "D", "--source", "U" }, "'--source' has no effect with --segments" },
		{ { "verify", "--source", "U", "--dest", "U", "--deep" }, "'--deep' has no effect without --segments" },
		/* forms */
		{ { "capture", "--source", "U", "--dir", "D", "--follow=yes" }, "option '--follow' takes no value" },
		{ { "capture", "--sourc", "U", "--dir", "D" }, "unknown option '--sourc'" },
		{ { "status", "D", "--bogus=secret-value" }, "unknown option '--bogus'" },
		{ { "replay", "--dir", "", "--dest", "U" }, "option '--dir' has an empty value" },
		{ { "replay", "--dir", "D", "--dest", "U", "U" }, "unexpected argument 'mysql://sluice:xxx@127.0.0.1:1/'" },
		/* consumer names */
		{ { "replay", "--dir", "D", "--dest", "U", "--consumer", "../x" }, "bad consumer name '../x'" },
		{ { "replay", "--dir", "D", "--dest", "U", "--consumer",
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" }, "bad consumer name" },
		{ { "verify", "--source", "U", "--dest", "U", "--recheck", "1", "--dir", "D", "--consumer", ".x" }, "bad consumer name '.x'" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *args[17], *errtext = NULL, *nl;
		char *dir_args[16] = { 0 };
		int rc, k;

		for (k = 0; k < 16 && cases[i].args[k]; k++) {
			const char *a = cases[i].args[k];

			if (!strcmp(a, "U"))
				args[k] = (char *)"mysql://sluice:UrlPw-n0tPr1nted@127.0.0.1:1/";
			else if (!strncmp(a, "D", 1) && (!a[1] || a[1] == '/'))
				args[k] = dir_args[k] = sl_xasprintf("%s%s", tmpdir, a + 1);
			else
				args[k] = (char *)a;
		}
		args[k] = NULL;
		rc = run_sluice(&errtext, args);
		nl = errtext ? strchr(errtext, '\n') : NULL;
		if (rc != 2 || !errtext || !strstr(errtext, cases[i].want) || (nl && nl[1]))
			fprintf(stderr, "\nsluice %s %s ...: exit %d, want 2 and one line with '%s'; stderr: %s", args[0],
				args[1], rc, cases[i].want, errtext ? errtext : "");
		CU_ASSERT_EQUAL(rc, 2);
		CU_ASSERT_PTR_NOT_NULL(errtext && strstr(errtext, cases[i].want) ? errtext : NULL);
		CU_ASSERT(!nl || !nl[1]);	/* one line */
		CU_ASSERT(!errtext || !strstr(errtext, "n0tPr1nted"));
		CU_ASSERT(!errtext || !strstr(errtext, "secret-value"));
		free(errtext);
		for (k = 0; k < 16; k++)
			free(dir_args[k]);
	}
}

static void test_options__cli_help_comes_from_the_tables(void)
{
	static const char *cmds[] = { "capture", "inspect", "pack", "purge", "replay", "status", "unpack", "verify" };
	const char *bin = getenv("SLUICE_BIN") ? getenv("SLUICE_BIN") : SLUICE_BIN;

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		char line[512], *q = sl_xasprintf("'%s' %s --help", bin, cmds[i]);
		FILE *p = popen(q, "r");
		int usage = 0, help = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		while (fgets(line, sizeof(line), p)) {
			usage += !strncmp(line, "usage: sluice ", 14);
			help += strstr(line, "-h, --help") != NULL;
		}
		CU_ASSERT_EQUAL(pclose(p), 0);
		CU_ASSERT_EQUAL(usage, 1);
		CU_ASSERT_EQUAL(help, 1);
		free(q);
	}
}

int main(void)
{
	CU_pSuite s;
	unsigned failed;

	if (!mkdtemp(tmpdir))
		return 1;
	unsetenv("SLUICE_SOURCE_PASSWORD");
	unsetenv("SLUICE_DEST_PASSWORD");
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	s = CU_add_suite("common/sl_opt", NULL, NULL);
	CU_add_test(s, "values, defaults, forms, positionals", test_options__values_defaults_and_forms);
	CU_add_test(s, "errors name the option", test_options__errors_name_the_option);
	CU_add_test(s, "secrets stay hidden", test_options__secrets_stay_hidden);
	CU_add_test(s, "help comes from the table", test_options__help_comes_from_the_table);
	CU_add_test(s, "durations", test_options__duration);
	CU_add_test(s, "consumer names, in the libraries too", test_options__consumer_names_in_libraries);
	s = CU_add_suite("cli/options", NULL, NULL);
	CU_add_test(s, "refuses what it would ignore", test_options__cli_refuses_what_it_would_ignore);
	CU_add_test(s, "-h of every command", test_options__cli_help_comes_from_the_tables);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	{
		char *rm = sl_xasprintf("rm -rf '%s'", tmpdir);

		if (system(rm) != 0)
			failed++;
		free(rm);
	}
	return failed ? 1 : 0;
}
