/*
 * sl_opt.h - one option table per subcommand: it drives parsing, bounds
 * checks, "has no effect" checks, the -h text and the redacted print of the
 * effective options. Nothing else in the tree parses options.
 *
 * A subcommand (cli/cmd_*.c) declares a plain array of struct sl_opt, one
 * line per option in the order -h lists them, wraps it in a struct
 * sl_opt_cmd and calls sl_opt_parse(). Adding an option is adding a line.
 *
 * Command line (the same for every subcommand):
 *   --name VALUE or --name=VALUE. Names match exactly: no abbreviations, so a
 *     new option can never change what an existing short form meant.
 *   A value that starts with "--", or is "-h", must use the = form
 *     (--key=--odd): in "--source --dir x" the value of --source is
 *     missing, it is not "--dir".
 *   A flag given a value (--follow=1) is an error.
 *   A repeated option: the last one wins (a wrapper script may append an
 *     override), except SL_OPT_LIST, which collects every value in order.
 *   -h or --help anywhere before "--" asks for the help, whatever else the
 *     line holds (sl_opt_parse() returns SL_OPT_HELP).
 *   "--" ends the options; every other argument is positional, wherever it
 *     stands, and is returned in argv order in cmd->args_given.
 *   Any other argument starting with '-' is an unknown option.
 *
 * Checks, in this order, each an error naming the option (one line):
 *   1. while reading: unknown option, missing value, a value a flag does not
 *      take, a value that is not of the option's type or out of [min, max],
 *      and the option's own check() (e.g. sl_consumer_name_check());
 *   2. after reading, "has no effect" (an option given where it does
 *      nothing is refused, never silently dropped):
 *      - modes: an option with .modes outside the mode in effect. The mode
 *        is bit 0 (1u) unless an SL_OPT_MODE option is given, which selects
 *        its own .modes bit; cmd->modes names each bit for messages
 *        ("with --binlog-files") and the synopsis lines of -h;
 *      - needs: "a|b": the option does nothing unless one of them is given;
 *      - conflicts: "a|b": the option does nothing when one of them is given;
 *   3. options sharing a nonzero .group exclude each other;
 *   4. SL_OPT_REQUIRED options of the mode in effect are all given.
 *
 * Defaults: .def is a value written as on the command line ("64M"); it is
 *   converted and stored in the target before argv is read, so the target
 *   holds the effective value whether or not the option was given. -h
 *   prints it, or .def_text when the default is not a value ("never").
 * Targets (SL_OPT_TARGET(field) fills .target and .target_size):
 *   SL_OPT_FLAG      int, set to 1
 *   SL_OPT_STR       const char *, pointing into argv (or .def); never empty
 *   SL_OPT_LIST      struct sl_opt_list, values appended (allocated)
 *   SL_OPT_UINT      unsigned integer of 1, 2, 4 or 8 bytes: decimal digits
 *   SL_OPT_MS        the same, in milliseconds ("10")
 *   SL_OPT_SIZE      bytes: 4096, 4k, 64M, 1G (sl_parse_size())
 *   SL_OPT_AGE       seconds: 30, 30s, 15m, 12h, 7d (sl_parse_age())
 *   SL_OPT_DURATION  milliseconds: 500ms, 30s, 15m, 1h, 2d (a bare number is seconds)
 *   Numbers are checked against [min, max]; max 0 means as much as the
 *   target holds. A NULL target is allowed: read .given / .text instead.
 * Secrets: SL_OPT_SECRET values are never printed (not in errors, not by
 *   sl_opt_format()); SL_OPT_URL values are printed with the password of a
 *   mysql:// URL replaced by "xxx" (sl_dsn_secret_span()).
 * Errors: sl_opt_parse() returns 0, SL_OPT_HELP, or -SL_EINVAL_ARG with one
 *   line in err; cli/ prints it and exits 2. A malformed table (a duplicate
 *   name, a bad default, a needs name that does not exist) is sl_bug().
 * Ownership: the table and targets belong to the caller; sl_opt_release()
 *   frees the lists and cmd->args_given (safe to call twice).
 * Threads: none; sl_opt_parse() may be called again on the same table
 *   (it resets .given, .text and the lists first).
 */
#ifndef SL_OPT_H
#define SL_OPT_H

#include <stdint.h>
#include <stdio.h>

#include "sl.h"

enum sl_opt_type {
	SL_OPT_FLAG,
	SL_OPT_STR,
	SL_OPT_LIST,
	SL_OPT_UINT,
	SL_OPT_MS,
	SL_OPT_SIZE,
	SL_OPT_AGE,
	SL_OPT_DURATION,
};

/* flags */
#define SL_OPT_REQUIRED	0x1u	/* must be given in its modes */
#define SL_OPT_SECRET	0x2u	/* never print the value */
#define SL_OPT_URL	0x4u	/* print with the URL's password hidden */
#define SL_OPT_MODE	0x8u	/* giving it selects the mode in .modes (one bit) */

#define SL_OPT_HELP 1		/* sl_opt_parse(): -h/--help was given */

struct sl_opt_list {
	const char **v;		/* pointers into argv; the array is owned */
	size_t n;
};

struct sl_opt {
	const char *name;		/* long name, without "--" */
	enum sl_opt_type type;
	void *target;			/* see Targets above; may be NULL */
	size_t target_size;
	const char *arg;		/* metavar in -h ("URL"); NULL: from the type */
	const char *def;		/* default, as a command-line value; NULL: none */
	const char *def_text;		/* -h text of a default that is not a value */
	uint64_t min, max;		/* numbers: inclusive; max 0: the target's limit */
	unsigned modes;			/* mode bits where it has an effect; 0: all */
	unsigned flags;			/* SL_OPT_REQUIRED | SL_OPT_SECRET | ... */
	const char *needs;		/* "a|b": has no effect unless one is given */
	const char *conflicts;		/* "a|b": has no effect when one is given */
	int group;			/* nonzero: members exclude each other */
	int (*check)(const char *value, struct sl_err *err);	/* extra rule */
	const char *help;		/* lines separated by '\n' */

	/* filled by sl_opt_parse() */
	unsigned given;			/* times on the command line */
	const char *text;		/* the effective value as text; NULL: none */
};

#define SL_OPT_TARGET(field) .target = &(field), .target_size = sizeof(field)

struct sl_opt_cmd {
	const char *name;		/* "capture": "sluice capture: ..." */
	const char *args;		/* positional arguments in the synopsis ("DIR"), or NULL */
	const char *about;		/* printed by -h after the synopsis, or NULL */
	const char *const *modes;	/* NULL, or a phrase per mode bit, NULL-terminated */
	struct sl_opt *opts;
	size_t n;

	/* filled by sl_opt_parse() */
	unsigned mode;			/* the mode bit in effect */
	struct sl_opt_list args_given;	/* positional arguments, in argv order */
};

#define SL_OPT_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* argv[0] is the subcommand's name. See the top of this file. */
int sl_opt_parse(struct sl_opt_cmd *c, int argc, char **argv, struct sl_err *err);
/* The option called name (sl_bug() when the table has none), and whether it was given. */
struct sl_opt *sl_opt_find(struct sl_opt_cmd *c, const char *name);
int sl_opt_given(struct sl_opt_cmd *c, const char *name);
/* The -h text: synopsis (a line per mode), about, every option with its
 * bounds, default, modes and dependencies. */
void sl_opt_help(const struct sl_opt_cmd *c, FILE *f);
/* The effective options, "--dir=/x --follow --commit-interval=10", given or
 * defaulted, in table order, secrets redacted: for logs and status. */
void sl_opt_format(const struct sl_opt_cmd *c, struct sl_buf *out);
void sl_opt_release(struct sl_opt_cmd *c);
/* Append text with the password of a mysql:// URL in it replaced by "xxx":
 * for echoing an argument the user gave (a positional may be a URL). */
void sl_opt_put_redacted(struct sl_buf *out, const char *text);

/* "500ms", "30s", "15m", "1h", "2d", a bare number is seconds, into
 * milliseconds. 0 or -SL_EINVAL_ARG (not a duration, or overflow). */
int sl_parse_duration_ms(const char *s, uint64_t *ms);

#endif
