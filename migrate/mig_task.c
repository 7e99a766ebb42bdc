/* mig_task.c - placeholder until the migrate task lands. */
#include "mig.h"
