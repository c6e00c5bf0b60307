/* The helper protocol's framing: a 4-byte big-endian length, checked
 * against a maximum before anything is read, then that many bytes of one
 * JSON object. Used by vmm-helper and by lib/helper_client.c. */
#ifndef VMM_FRAME_H
#define VMM_FRAME_H

#include <jansson.h>
#include <stddef.h>

#define FRAME_MAX_BYTES (256 * 1024)

enum frame_status {
    FRAME_OK = 0,
    FRAME_EOF = -1,        /* the peer closed before a new frame */
    FRAME_IO = -2,         /* read/write failed or stopped mid-frame */
    FRAME_TOO_LARGE = -3,  /* length above max (nothing more was read) */
    FRAME_BAD_JSON = -4,   /* not one JSON object */
};

/* Writes obj as one frame. FRAME_OK or FRAME_IO. */
int frame_write(int fd, json_t *obj);
/* Reads one frame of at most max bytes into *obj (a new reference). */
int frame_read(int fd, size_t max, json_t **obj);

#endif
