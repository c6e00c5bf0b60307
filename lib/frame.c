#include "frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* 0 when len bytes were read, 1 at EOF before any byte, -1 otherwise. */
static int read_all(int fd, void *buf, size_t len)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && got == 0)
            return 1;
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return 0;
}

int frame_write(int fd, json_t *obj)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text)
        return FRAME_IO;
    size_t len = strlen(text);
    uint32_t header = htonl((uint32_t)len);
    int rc = len > FRAME_MAX_BYTES || write_all(fd, &header, sizeof header) < 0 ||
                     write_all(fd, text, len) < 0
                 ? FRAME_IO
                 : FRAME_OK;
    free(text);
    return rc;
}

int frame_read(int fd, size_t max, json_t **obj)
{
    uint32_t header;
    *obj = NULL;
    int rc = read_all(fd, &header, sizeof header);
    if (rc != 0)
        return rc > 0 ? FRAME_EOF : FRAME_IO;
    size_t len = ntohl(header);
    if (len > max)
        return FRAME_TOO_LARGE;

    char *text = malloc(len + 1);
    if (!text || (len > 0 && read_all(fd, text, len) != 0)) {
        free(text);
        return FRAME_IO;
    }
    text[len] = '\0';
    *obj = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    free(text);
    if (!json_is_object(*obj)) {
        json_decref(*obj);
        *obj = NULL;
        return FRAME_BAD_JSON;
    }
    return FRAME_OK;
}
