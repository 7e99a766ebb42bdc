/* cap_decode.c - placeholder; being written. */
