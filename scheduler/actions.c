/* The action of a firing alert (restart, suspend): asked of vmm-helper on
 * the scheduler's own socket ([helper] scheduler_socket), which serves
 * alert.action alone and checks the alert, its rule and its owner itself
 * (helper/ops/alert_action.h). The outcome goes in the alert's message. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "config.h"
#include "db.h"
#include "frame.h"
#include "log.h"
#include "notify.h"

static int helper_socket(void)
{
    const char *path =
        config_str("helper", "scheduler_socket", "/run/vmm/helper-scheduler.sock");
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path)
        return -1;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        close(fd);
        fd = -1;
    }
    return fd;
}

void notify_vm_action(long long owner_id, long long rule_id, long long alert_id, long long vm_id,
                      const char *action)
{
    char outcome[200];
    int fd = helper_socket();
    json_t *reply = NULL;
    if (fd < 0) {
        snprintf(outcome, sizeof outcome, "action %s not run: the helper is not reachable", action);
    } else {
        char request_id[48];
        snprintf(request_id, sizeof request_id, "sched-alert-%lld", alert_id);
        json_t *request = json_pack("{s:s, s:{s:I}, s:s}", "op", "alert.action", "args",
                                    "alert_id", (json_int_t)alert_id, "request_id", request_id);
        if (frame_write(fd, request) != FRAME_OK ||
            frame_read_within(fd, FRAME_REPLY_MAX_BYTES, &reply, 120000) != FRAME_OK)
            snprintf(outcome, sizeof outcome, "action %s: no answer from the helper", action);
        else if (json_is_true(json_object_get(reply, "ok")))
            outcome[0] = '\0';   /* the helper wrote "action: ..." itself */
        else
            snprintf(outcome, sizeof outcome, "action %s refused: %s", action,
                     json_string_value(json_object_get(json_object_get(reply, "error"), "code")));
        json_decref(request);
        json_decref(reply);
        close(fd);
    }
    if (outcome[0]) {
        log_warn("alert %lld (rule %lld, owner %lld, VM %lld): %s", alert_id, rule_id, owner_id,
                 vm_id, outcome);
        db_exec("UPDATE alerts SET message = ? WHERE id = ?", DB_TEXT(outcome), DB_INT(alert_id));
    }
}
