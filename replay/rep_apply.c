/* rep_apply.c - placeholder; being written. */
