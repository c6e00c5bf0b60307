/* The helper protocol's framing: a 4-byte big-endian length, checked
 * against a maximum before anything is read, then that many bytes of one
 * JSON object. Used by vmm-helper and by lib/web/helper_client.c. */
#ifndef VMM_FRAME_H
#define VMM_FRAME_H

#include <jansson.h>
#include <stddef.h>

/* One limit per direction, the same on both sides. A request carries ids
 * and small typed values, so it stays small and the root helper never
 * buffers much for a peer it has not checked yet. A reply may carry lists:
 * the statistics of 1000 VMs (virConnectGetAllDomainStats' groups) are
 * about 1.5 KiB a VM as JSON, some 1.5 MiB, so 8 MiB leaves room. */
#define FRAME_REQUEST_MAX_BYTES (256 * 1024)
#define FRAME_REPLY_MAX_BYTES (8 * 1024 * 1024)
/* The larger of the two: what frame_write allows. */
#define FRAME_MAX_BYTES FRAME_REPLY_MAX_BYTES

enum frame_status {
    FRAME_OK = 0,
    FRAME_EOF = -1,        /* the peer closed before a new frame */
    FRAME_IO = -2,         /* read/write failed or stopped mid-frame */
    FRAME_TOO_LARGE = -3,  /* length above max (nothing more was read or written) */
    FRAME_BAD_JSON = -4,   /* not one JSON object */
    FRAME_TIMEOUT = -5,    /* the deadline passed before the whole frame came */
};

/* Writes obj as one frame of at most FRAME_MAX_BYTES. FRAME_OK, FRAME_IO
 * or FRAME_TOO_LARGE. */
int frame_write(int fd, json_t *obj);
/* The same with a limit of the caller's (FRAME_REQUEST_MAX_BYTES or
 * FRAME_REPLY_MAX_BYTES): a frame above it is not sent. */
int frame_write_max(int fd, json_t *obj, size_t max);
/* Reads one frame of at most max bytes into *obj (a new reference). */
int frame_read(int fd, size_t max, json_t **obj);
/* The same, but the whole frame must arrive within timeout_ms of the
 * call (FRAME_TIMEOUT otherwise), however slowly it trickles in; a
 * negative timeout waits forever. */
int frame_read_within(int fd, size_t max, json_t **obj, int timeout_ms);

#endif
