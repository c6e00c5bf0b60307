#include "helper_client.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "frame.h"
#include "i18n.h"
#include "log.h"
#include "user.h"

static int helper_connect(void)
{
    const char *path = config_str("helper", "socket", "/run/vmm/helper.sock");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path)
        return -1;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    /* A stuck helper must not hold a worker forever. */
    struct timeval timeout = { .tv_sec = config_int("helper", "call_timeout_s", 60) };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        log_warn("helper at %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

json_t *helper_call(struct req *r, const char *op, json_t *args)
{
    json_t *request = json_pack("{s:s, s:O, s:o}", "op", op, "args", args ? args : json_object(),
                                "actor", r->user ? json_integer(r->user->id) : json_null());
    json_t *reply = NULL, *data = NULL;
    int fd = helper_connect();
    int rc = fd < 0 ? FRAME_IO : frame_write(fd, request);
    if (rc == FRAME_OK)
        rc = frame_read(fd, 16 * 1024 * 1024, &reply);
    if (fd >= 0)
        close(fd);
    json_decref(request);

    if (rc != FRAME_OK) {
        req_fail(r, 503, "helper_unavailable", NULL,
                 _("The virtualization service is not available. Try again shortly."));
    } else if (json_is_true(json_object_get(reply, "ok"))) {
        data = json_incref(json_object_get(reply, "data"));
    } else {
        json_t *error = json_object_get(reply, "error");
        int status = (int)json_integer_value(json_object_get(error, "status"));
        req_fail(r, status >= 400 && status < 600 ? status : 502,
                 json_string_value(json_object_get(error, "code")) ?: "helper_error",
                 json_string_value(json_object_get(error, "field")), "%s",
                 json_string_value(json_object_get(error, "message")) ?: "");
    }
    json_decref(reply);
    return data;
}
