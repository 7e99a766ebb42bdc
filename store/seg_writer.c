/* seg_writer.c - placeholder; being written. */
