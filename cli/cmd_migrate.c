/* cmd_migrate.c - `sluice migrate`: placeholder until the task lands. */
#include "cmd.h"
int cmd_migrate(int argc, char **argv)
{
	(void)argc; (void)argv;
	return 2;
}
