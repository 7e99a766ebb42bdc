/*
 * cmd.h - the subcommands of the sluice binary (git builtin.h style).
 *
 * Adding a subcommand, as a checklist:
 *   1. cli/cmd_<name>.c with int cmd_<name>(int argc, char **argv)
 *      (argv[0] is the subcommand's name) that declares its option table
 *      (struct sl_opt[], common/sl_opt.h) and calls cmd_parse() first: the
 *      table gives -h, bounds and "has no effect" checks;
 *   2. one line in the table in cli/sluice.c, kept sorted;
 *   3. integration tests under tests/integration/;
 *   4. a section in README.md.
 * Exit status (DESIGN.md): 0 success, 1 a verification difference, 2 an error
 * with a one-line message on stderr that names the cause. Only cli/ exits.
 */
#ifndef CMD_H
#define CMD_H

#include "sl.h"
#include "sl_opt.h"

int cmd_capture(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_switchover(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_precheck(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_receive(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_ship(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_unpack(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* `sluice verify --segments DIR [--deep]` (cli/cmd_verify_segments.c): cmd_verify()
 * parses the options (its table has a mode for it) and calls this. Exit status. */
int cmd_verify_segments(const char *dir, int deep);

/* Print "sluice NAME: message" on stderr and return 2. */
int cmd_fail(const char *name, const struct sl_err *err);
/* Print "sluice NAME: message" (one line) for a usage problem and return 2. */
int cmd_usage_error(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Parse argv with the subcommand's option table (common/sl_opt.h: the only
 * option parser; its table also makes -h). Returns CMD_GO_ON when the
 * command should run, else its exit status: 0 after -h printed the help,
 * 2 after one error line. Logs the effective options (secrets hidden) at
 * debug level (SLUICE_TRACE=cli). */
#define CMD_GO_ON (-1)
int cmd_parse(struct sl_opt_cmd *c, int argc, char **argv);
/* "sluice NAME: unexpected argument 'ARG'" for c's first positional argument,
 * a URL's password hidden; returns 2. */
int cmd_unexpected(const struct sl_opt_cmd *c);
/* An sl_opt check: value names a dialect ddl_dialect_parse() knows. */
int cmd_dialect_check(const char *value, struct sl_err *err);

/* Option rows several commands share, so that they say and check the same
 * (mode_bits: the .modes they act in, 0 for all). */
#define CMD_OPT_SOURCE(field, mode_bits)                                               \
	{ "source", SL_OPT_STR, SL_OPT_TARGET(field), .arg = "URL", .modes = (mode_bits), \
	  .flags = SL_OPT_REQUIRED | SL_OPT_URL,                                          \
	  .help = "the source, mysql://user@host:port/ (SLUICE_SOURCE_PASSWORD)" }
#define CMD_OPT_INCLUDE(field, mode_bits)                                                \
	{ "include", SL_OPT_STR, SL_OPT_TARGET(field), .arg = "PATS", .modes = (mode_bits), \
	  .help = "comma-separated db, db.table, with % * _ ? wildcards" }
#define CMD_OPT_EXCLUDE(field, mode_bits)                                                \
	{ "exclude", SL_OPT_STR, SL_OPT_TARGET(field), .arg = "PATS", .modes = (mode_bits), \
	  .help = "the same, to leave out" }
/* Filters and renames of capture and replay (formats/fmt.h "Filters and
 * renames", README "Filters and renames"): the rows of the option table
 * and cmd_filter_open() (cmd_filter.c), which checks them and opens the
 * filter (NULL when none is given) with ddl_filter_stmt() for DDL.
 * --map may be repeated (the values are joined). */
struct cmd_filter {
	const char *include, *exclude, *exclude_columns, *ops;
	struct sl_opt_list map;
	char *map_joined;
};
#define CMD_OPT_FILTERS(cf, mode_bits, what)                                                \
	{ "include", SL_OPT_STR, SL_OPT_TARGET((cf).include), .arg = "PATS",                  \
	  .modes = (mode_bits),                                                               \
	  .help = "tables " what ": comma-separated db, db.table, with\n"                    \
		  "% * _ ? wildcards (source names; default: all)" },                          \
	{ "exclude", SL_OPT_STR, SL_OPT_TARGET((cf).exclude), .arg = "PATS",                  \
	  .modes = (mode_bits), .help = "the same, to leave out" },                           \
	{ "map", SL_OPT_LIST, SL_OPT_TARGET((cf).map), .arg = "SRC=DST", .modes = (mode_bits), \
	  .check = sl_map_check,                                                              \
	  .help = "rename: db=db2 (a database) or db.t=db2.t2 (a table);\n"                  \
		  "comma-separated; DDL follows" },                                            \
	{ "exclude-columns", SL_OPT_STR, SL_OPT_TARGET((cf).exclude_columns), .arg = "PATS",  \
	  .modes = (mode_bits),                                                               \
	  .help = "columns to leave out of rows and table definitions:\n"                    \
		  "db.table.column, wildcards allowed (never a key column)" },                 \
	{ "ops", SL_OPT_STR, SL_OPT_TARGET((cf).ops), .arg = "LIST", .modes = (mode_bits),    \
	  .def_text = "insert,update,delete,ddl",                                              \
	  .help = "the operations passed: insert, update, delete, ddl" }
struct fmt_filter;
int cmd_filter_open(struct cmd_filter *cf, struct fmt_filter **f, struct sl_err *err);
/* Something beyond --include/--exclude is asked (what a snapshot cannot do). */
int cmd_filter_rewrites(const struct cmd_filter *cf);
void cmd_filter_release(struct cmd_filter *cf);

/* --dest-dialect of precheck and migrate: the rules definitions are checked by */
#define CMD_OPT_DEST_DIALECT(field)                                                     \
	{ "dest-dialect", SL_OPT_STR, SL_OPT_TARGET(field), .arg = "D", .check = cmd_dialect_check, \
	  .help = "mariadb, mysql or oceanbase (default: from the destination's version)" }

#endif
