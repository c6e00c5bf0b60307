/* vmm-helper: the only process that talks to libvirt. It listens on a unix
 * socket (0660, group of the web programs), accepts only the configured
 * client uid (SO_PEERCRED) and root, and answers framed JSON requests
 * {op, args, actor, credential, request_id} with {ok, data} or {ok: false,
 * error}. Each op names its argument fields; the actor is loaded from the
 * database here, never taken on the client's word: a non-root client must
 * prove it with the session or API token it authenticated (actor.h). A
 * client has [helper] client_idle_timeout_s for each whole request. */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "accel.h"
#include "addresses.h"
#include "actor.h"
#include "bounded.h"
#include "config.h"
#include "db.h"
#include "frame.h"
#include "job.h"
#include "library.h"
#include "log.h"
#include "ops/metrics.h"
#include "ops.h"
#include "ops/migrate.h"
#include "lifecycle.h"
#include "reconcile.h"
#include "ops/ip_pool.h"
#include "upload.h"
#include "virt.h"
#include "ops/hardware.h"
#include "vm.h"
#include "ops/network_started.h"
#include "ops/port_forward.h"
#include "ops/snapshot.h"
#include "ops/backup.h"

static uid_t client_uid;
static int client_idle_ms;

/* A socket and the one uid (besides root) it accepts: the web programs',
 * or vmm-scheduler's on a socket of its own. */
struct listener {
    int fd;
    uid_t uid;
    bool scheduler;
};

/* One accepted connection, handed to its thread. */
struct client {
    int fd;
    struct peer peer;
    bool scheduler;
};

static json_t *reply_error(const struct err *err)
{
    json_t *error = json_pack("{s:i, s:s, s:s}", "status", err->status, "code", err->code,
                              "message", err->message);
    if (err->field[0])
        json_object_set_new(error, "field", json_string(err->field));
    return json_pack("{s:b, s:o}", "ok", 0, "error", error);
}

/* Runs one request; returns the reply. */
static json_t *handle(json_t *request, const struct peer *peer, bool scheduler)
{
    struct op_call call = { 0 };
    json_t *reply = NULL;
    struct user *actor = NULL;

    struct op_request req;
    int parsed = op_request_parse(request, &req, &call.err);
    const char *name = req.name;
    const struct op *op = req.op;
    call.args = req.args;
    if (parsed < 0)
        goto done;
    /* The scheduler's socket serves its ops alone, and they no other. */
    if (op->scheduler_only != scheduler) {
        err_set(&call.err, 403, "forbidden", "op", "This operation is not open to this caller.");
        goto done;
    }
    actor = actor_verify(request, peer, &call.err);
    if (call.err.status)
        goto done;
    if (op->needs_actor && !actor) {
        err_set(&call.err, 401, "unauthenticated", NULL, "This operation needs a user.");
        goto done;
    }
    if (op->admin_only && (!actor || actor->role != ROLE_ADMIN)) {
        err_set(&call.err, 403, "forbidden", NULL, "This operation is for administrators.");
        goto done;
    }
    call.actor = actor;
    /* In a thread of its own, with a deadline (and the transaction check). */
    int rc = op_run_bounded(op, &call);
    if (rc < 0 && !call.err.status)
        err_set(&call.err, 500, "internal", NULL, "The operation failed.");

done:
    if (call.err.status) {
        log_info("op %s refused: %d %s", name ? name : "?", call.err.status, call.err.code);
        reply = reply_error(&call.err);
    } else {
        reply = json_pack("{s:b, s:O}", "ok", 1, "data", call.result ? call.result : json_object());
    }
    json_decref(call.result);
    json_decref(call.args);
    user_free(actor);
    return reply;
}

/* Sends a reply; one too large for the client becomes an error reply. */
static int send_reply(int fd, json_t *reply, const char *op)
{
    int rc = frame_write_max(fd, reply, FRAME_REPLY_MAX_BYTES);
    if (rc != FRAME_TOO_LARGE)
        return rc;
    log_error("the reply to %s is larger than %d bytes", op ? op : "?", FRAME_REPLY_MAX_BYTES);
    struct err err = { 0 };
    err_set(&err, 500, "reply_too_large", NULL, "The answer is too large to send.");
    json_t *error = reply_error(&err);
    rc = frame_write_max(fd, error, FRAME_REPLY_MAX_BYTES);
    json_decref(error);
    return rc;
}

static void *serve_client(void *arg)
{
    struct client *client = arg;
    int fd = client->fd;
    for (;;) {
        json_t *request = NULL;
        /* A peer that sends nothing, or half a frame, must not keep a
         * thread and a descriptor for ever. */
        int rc = frame_read_within(fd, FRAME_REQUEST_MAX_BYTES, &request, client_idle_ms);
        if (rc == FRAME_TIMEOUT)
            log_info("dropped a connection from uid %d pid %d: no whole request within %d ms",
                     (int)client->peer.uid, (int)client->peer.pid, client_idle_ms);
        if (rc == FRAME_EOF || rc == FRAME_IO || rc == FRAME_TIMEOUT)
            break;
        if (rc != FRAME_OK) {
            struct err err = { 0 };
            err_set(&err, rc == FRAME_TOO_LARGE ? 413 : 400,
                    rc == FRAME_TOO_LARGE ? "request_too_large" : "bad_request", NULL,
                    "The request could not be read.");
            json_t *reply = reply_error(&err);
            frame_write_max(fd, reply, FRAME_REPLY_MAX_BYTES);
            json_decref(reply);
            break;   /* the stream is out of step: close it */
        }
        json_t *reply = handle(request, &client->peer, client->scheduler);
        rc = send_reply(fd, reply, json_string_value(json_object_get(request, "op")));
        json_decref(reply);
        json_decref(request);
        if (rc != FRAME_OK)
            break;
    }
    close(fd);
    free(client);
    db_close();
    return NULL;
}

static void *accept_loop(void *arg);

static bool peer_allowed(int fd, uid_t allowed, struct peer *peer)
{
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    peer->uid = cred.uid;
    peer->pid = cred.pid;
    if (cred.uid == 0 || cred.uid == allowed)
        return true;
    log_warn("refused a connection from uid %d pid %d", (int)cred.uid, (int)cred.pid);
    return false;
}

static int listen_on(const char *path, gid_t group)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof addr.sun_path)
        return -1;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    unlink(path);
    /* Created 0600 and only then opened to the group: never briefly wider.
     * Linux gives the socket file the unbound socket's mode (less the
     * umask); umask() itself would be process-wide, and a directory made
     * by another thread meanwhile would get it. */
    if (fd < 0 || fchmod(fd, 0600) < 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
        chown(path, 0, group) < 0 || chmod(path, 0660) < 0 || listen(fd, 64) < 0) {
        log_error("cannot listen on %s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

int main(int argc, char **argv)
{
    log_init("vmm-helper");
    signal(SIGPIPE, SIG_IGN);
    vm_install_init();
    if (config_load() < 0 || virt_init(lifecycle_on_event) < 0)
        return 1;
    hardware_init();   /* before the first connection: device-removed events */
    network_started_init();   /* and network starts */

    const char *user = config_str("helper", "client_user", "vmm");
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        log_error("client user %s does not exist", user);
        return 1;
    }
    client_uid = pw->pw_uid;
    client_idle_ms = (int)config_int("helper", "client_idle_timeout_s", 5) * 1000;
    const char *path = config_str("helper", "socket", "/run/vmm/helper.sock");
    int listener = listen_on(path, pw->pw_gid);
    if (listener < 0)
        return 1;
    log_info("listening on %s for uid %d", path, (int)client_uid);

    /* Connect now, so lifecycle events flow before the first request, and
     * say what does not match between the database and libvirt; in the
     * background, as the accelerator probe: a wedged libvirtd must not
     * keep the helper from answering. */
    job_fail_interrupted();
    snapshot_cleanup_interrupted();
    backup_cleanup_interrupted();
    if (job_runner_start() < 0) {
        log_error("the job runner could not start");
        return 1;
    }
    upload_startup();
    /* Off the request path: the helper answers while templates are judged. */
    library_recheck_start();
    ip_pool_sweeper_start();
    addresses_start();
    /* Port forwards from the database: a host that rebooted has no rules. */
    port_forward_sync(0, NULL);
    accel_start();
    metrics_start();
    reconcile_start();
    host_monitor_start();

    static struct listener web, sched;
    web = (struct listener){ listener, client_uid, false };
    sched = (struct listener){ -1, (uid_t)-1, false };
    /* vmm-scheduler's own socket, owned by its group, for its ops alone. */
    const char *sched_user = config_str("helper", "scheduler_user", "vmm-sched");
    struct passwd *spw = *sched_user ? getpwnam(sched_user) : NULL;
    const char *sched_path = config_str("helper", "scheduler_socket", "/run/vmm/helper-scheduler.sock");
    if (spw && (sched.fd = listen_on(sched_path, spw->pw_gid)) >= 0) {
        sched.uid = spw->pw_uid;
        sched.scheduler = true;
        pthread_t thread;
        if (pthread_create(&thread, NULL, accept_loop, &sched) == 0) {
            pthread_detach(thread);
            log_info("listening on %s for the scheduler (uid %d)", sched_path, (int)sched.uid);
        }
    }
    accept_loop(&web);
    return 0;
}

static void *accept_loop(void *arg)
{
    const struct listener *l = arg;
    for (;;) {
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR)
                log_error("accept: %s", strerror(errno));
            continue;
        }
        struct client *client = calloc(1, sizeof *client);
        if (!client || !peer_allowed(fd, l->uid, &client->peer)) {
            free(client);
            close(fd);
            continue;
        }
        client->fd = fd;
        client->scheduler = l->scheduler;
        /* A client that stops reading its reply must not hold the thread. */
        struct timeval send_timeout = { .tv_sec = 30 };
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof send_timeout);
        pthread_t thread;
        if (pthread_create(&thread, NULL, serve_client, client) != 0) {
            free(client);
            close(fd);
            continue;
        }
        pthread_detach(thread);
    }
    return NULL;
}
