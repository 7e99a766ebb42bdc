/* snap_run.c - placeholder until the snapshot lands. */
#include "snap.h"
