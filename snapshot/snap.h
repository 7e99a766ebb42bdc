/*
 * snap.h - the consistent snapshot: every table of the source read at one
 * binlog position into DIR/snapshot (issue 11; written by the snapshot work).
 */
#ifndef SNAP_H
#define SNAP_H
#endif
