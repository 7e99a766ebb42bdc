/* sluice.c - main(): the subcommand table (placeholder until cli lands). */
#include <stdio.h>
int main(void) { puts("sluice"); return 0; }
