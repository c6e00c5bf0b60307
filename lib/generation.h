/* The write generation: a counter in a small shared file that every
 * database write made through lib/db.c bumps once it is committed. Workers
 * keep what they read (sessions, rendered lists) while the generation stays
 * the same, and for at most [cache] revalidate_ms, so that rows changed
 * behind our back (an admin's SQL) are seen within that time too.
 *
 * Without the file ([cache] generation_file, made by tools/dev) nothing is
 * ever reused: every request reads the database. */
#ifndef VMM_GENERATION_H
#define VMM_GENERATION_H

#include <stdbool.h>
#include <stdint.h>

/* What a cached value remembers of the moment it was read. */
struct generation_mark {
    uint64_t generation;   /* 0: never valid */
    int64_t taken_ms;      /* monotonic milliseconds */
};

/* Bumps the generation: called after each committed write. */
void generation_bump(void);
/* The mark of now; take it BEFORE reading what it will guard, so that a
 * write racing the read can only make the value look older, never newer. */
struct generation_mark generation_mark(void);
/* Whether a value read under mark may still be used. */
bool generation_fresh(struct generation_mark mark);

#endif
