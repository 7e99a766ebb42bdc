/*
 * mig.h - the migration task: precheck, the migrate phases and the children
 * it supervises (issue 11; written by the migrate work).
 */
#ifndef MIG_H
#define MIG_H
#endif
