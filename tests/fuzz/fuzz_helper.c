/* libFuzzer harness: what vmm-helper reads from a client. One input is the
 * byte stream of a connection: frames (a 4-byte big-endian length, then
 * that many bytes of JSON), read with frame_read_within and the request
 * limit as serve_client does, and each request checked by op_request_parse
 * (the op, its args against the op's fields). Nothing runs: no op, no
 * actor check (that needs the database), no libvirt. The stream sits in a
 * memfd, so the frame reader reads a real file descriptor. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "frame.h"
#include "ops.h"

static int stream_fd = -1;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (stream_fd < 0 && (stream_fd = memfd_create("frames", MFD_CLOEXEC)) < 0) {
        perror("memfd_create");
        abort();
    }
    if (ftruncate(stream_fd, 0) < 0 || pwrite(stream_fd, data, size, 0) != (ssize_t)size ||
        lseek(stream_fd, 0, SEEK_SET) != 0) {
        perror("memfd");
        abort();
    }
    for (;;) {
        json_t *request = NULL;
        int rc = frame_read_within(stream_fd, FRAME_REQUEST_MAX_BYTES, &request, 10000);
        if (rc != FRAME_OK) {
            /* The helper answers and closes on anything but a good frame. */
            if (request)
                abort();
            break;
        }
        struct op_request req;
        struct err err = { 0 };
        if (op_request_parse(request, &req, &err) == 0 && (!req.op || !req.args))
            abort();
        if (err.status && !err.code[0])
            abort();
        json_decref(req.args);
        json_decref(request);
    }
    return 0;
}
