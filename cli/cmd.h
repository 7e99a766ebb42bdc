/*
 * cmd.h - the subcommands of the sluice binary (git builtin.h style).
 *
 * Adding a subcommand, as a checklist:
 *   1. cli/cmd_<name>.c with int cmd_<name>(int argc, char **argv)
 *      (argv[0] is the subcommand's name; -h/--help prints its usage, exit 0);
 *   2. one line in the table in cli/sluice.c, kept sorted;
 *   3. integration tests under tests/integration/;
 *   4. a section in README.md.
 * Exit status (DESIGN.md): 0 success, 1 a verification difference, 2 an error
 * with a one-line message on stderr that names the cause. Only cli/ exits.
 */
#ifndef CMD_H
#define CMD_H

#include "sl.h"

int cmd_capture(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_pack(int argc, char **argv);
int cmd_purge(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_unpack(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* `sluice verify --segments DIR` (cli/cmd_verify_segments.c); cmd_verify() calls it. */
int cmd_verify_segments(int argc, char **argv);

/* Print "sluice NAME: message" on stderr and return 2. */
int cmd_fail(const char *name, const struct sl_err *err);
/* Print "sluice NAME: message" for a usage problem and return 2. */
int cmd_usage_error(const char *name, const char *usage, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
