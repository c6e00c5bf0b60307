/* A request body written once, at an offset of a file, as it arrives, and
 * hashed on the way (tus PATCH, cgi-bin/vmm-uploads.c). The caller's
 * thread reads and writes; MD5 and SHA-256 of the whole file each run in a
 * thread of their own a few blocks behind (MD5 alone is slower than the
 * disk here), so the digests are ready when the last byte is written. */
#ifndef VMM_STREAM_WRITE_H
#define VMM_STREAM_WRITE_H

#include <stddef.h>

#include "digest_state.h"

/* Reads up to n bytes: the count, 0 at the end, -1 if the body was cut. */
typedef long (*stream_read_fn)(void *ctx, void *buf, size_t n);

enum stream_result {
    STREAM_DONE = 0,     /* all of it written */
    STREAM_CUT = 1,      /* the body ended early; `written` bytes are in */
    STREAM_IO = 2,       /* a write failed (errno in `error`) */
};

struct stream_write {
    int fd;
    long long offset;              /* where the first byte goes */
    struct digest_state *digests;  /* the file's digests so far, or NULL */
    void *chunk_md;                /* an EVP_MD_CTX for Upload-Checksum, or NULL */
    /* out */
    long long written;             /* bytes written and hashed */
    int error;
};

enum stream_result stream_write_run(struct stream_write *w, stream_read_fn read, void *ctx);

#endif
