#include "frame.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Waits until fd is readable before deadline (monotonic ms; < 0: none).
 * 0, or FRAME_TIMEOUT / FRAME_IO. */
static int wait_readable(int fd, long long deadline)
{
    if (deadline < 0)
        return 0;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return FRAME_TIMEOUT;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
        if (n > 0)
            return 0;
        if (n < 0 && errno != EINTR)
            return FRAME_IO;
    }
}

/* 0 when len bytes were read, 1 at EOF before any byte, FRAME_IO or
 * FRAME_TIMEOUT otherwise. */
static int read_all(int fd, void *buf, size_t len, long long deadline)
{
    char *p = buf;
    size_t got = 0;
    while (got < len) {
        int rc = wait_readable(fd, deadline);
        if (rc != 0)
            return rc;
        ssize_t n = read(fd, p + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 && got == 0)
            return 1;
        if (n <= 0)
            return FRAME_IO;
        got += (size_t)n;
    }
    return 0;
}

int frame_write_max(int fd, json_t *obj, size_t max)
{
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text)
        return FRAME_IO;
    size_t len = strlen(text);
    uint32_t header = htonl((uint32_t)len);
    int rc = len > max || len > FRAME_MAX_BYTES ? FRAME_TOO_LARGE
             : write_all(fd, &header, sizeof header) < 0 || write_all(fd, text, len) < 0
                 ? FRAME_IO
                 : FRAME_OK;
    free(text);
    return rc;
}

int frame_write(int fd, json_t *obj)
{
    return frame_write_max(fd, obj, FRAME_MAX_BYTES);
}

int frame_read_within(int fd, size_t max, json_t **obj, int timeout_ms)
{
    long long deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
    uint32_t header;
    *obj = NULL;
    int rc = read_all(fd, &header, sizeof header, deadline);
    if (rc != 0)
        return rc > 0 ? FRAME_EOF : rc;
    size_t len = ntohl(header);
    if (len > max)
        return FRAME_TOO_LARGE;

    char *text = malloc(len + 1);
    if (!text)
        return FRAME_IO;
    rc = len > 0 ? read_all(fd, text, len, deadline) : 0;
    if (rc != 0) {
        free(text);
        return rc == FRAME_TIMEOUT ? FRAME_TIMEOUT : FRAME_IO;
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

int frame_read(int fd, size_t max, json_t **obj)
{
    return frame_read_within(fd, max, obj, -1);
}
