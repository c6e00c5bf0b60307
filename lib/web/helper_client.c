#include "helper_client.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "api_token.h"
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

/* The helper speaks English. In other languages its errors read as these,
 * by code; where its words carry facts (libvirt's reason, the state) they
 * follow in parentheses. Unknown codes keep the helper's words. */
static const struct {
    const char *code;
    const char *text;
    bool detail;
} helper_messages[] = {
    { "libvirt_unavailable", N_("The virtualization service is not available. Try again shortly."),
      false },
    { "libvirt_error", N_("The virtualization service could not do this."), true },
    { "libvirt_timeout",
      N_("The virtualization service did not answer in time. Try again shortly; if this goes on, "
         "an administrator should look at libvirtd."), false },
    { "helper_busy", N_("The virtualization service is too busy. Try again shortly."), false },
    { "accel_failed",
      N_("KVM (hardware acceleration) could not run this virtual machine. An administrator can "
         "check /dev/kvm or set the accelerator to TCG ([helper] accel = qemu)."), true },
    { "accel_pending",
      N_("The host's accelerator is still being determined. Try again in a minute."), false },
    { "job_expired", N_("The virtualization service never took this job up."), false },
    { "storage_error", N_("The storage could not do this."), true },
    { "storage_unavailable", N_("The storage pool is not available."), true },
    { "database_unavailable", N_("The database is not available. Try again shortly."), false },
    { "not_found", N_("There is no such virtual machine."), false },
    { "no_domain", N_("This virtual machine has no domain in libvirt; see the reconcile report."),
      false },
    { "wrong_state", N_("The virtual machine's state does not allow this."), true },
    { "no_cdrom", N_("No ISO image is in this machine's CD-ROM drive."), false },
    { "invalid_spec", N_("This machine cannot be built."), true },
    { "no_image", N_("This virtual machine needs exactly one template or ISO."), false },
    { "job_failed", N_("The creation could not be started."), false },
    { "forbidden", N_("You are not allowed to do this."), false },
    { "network_overlap", N_("The network's addresses overlap others on this host."), true },
    { "no_bridge", N_("There is no such bridge on this host."), true },
    { "network_in_use", N_("Virtual machines use this network."), true },
    { "network_exists", N_("libvirt already has a network with this name."), true },
    { "invalid_network", N_("This network cannot be made."), true },
    { "builtin_network", N_("This network was not made here and is not changed from here."), false },
    { "no_network", N_("The network is not defined in libvirt."), true },
    { "storage_timeout", N_("The storage does not answer; its backend may be down."), true },
    { "pool_in_use", N_("Virtual machine disks are in this storage pool."), true },
    { "volume_in_use", N_("A virtual machine uses this volume."), false },
    { "pool_inactive", N_("Start the storage pool first."), false },
    { "path_not_allowed", N_("Storage pools may not be placed there."), true },
    { "volume_exists", N_("The pool already has a volume with this name."), true },
    { "cannot_shrink", N_("A volume only grows."), false },
    { "no_storage_pool", N_("libvirt has no such storage pool."), true },
    { "storage_pool_exists", N_("libvirt already has a storage pool with this name."), true },
    { "pool_not_empty", N_("The storage pool still holds volumes; delete them first."), true },
    { "invalid_storage", N_("This storage pool cannot be made."), true },
    { "invalid_volume", N_("This volume cannot be made."), true },
    { "pool_full", N_("The storage pool has not enough room for this volume."), true },
    { "unsupported_pool",
      N_("Only directory and NFS pools take uploaded volumes and send them."), false },
    { "not_a_file", N_("This volume cannot be sent."), false },
    /* snapshots (helper/ops/snapshot.c) */
    { "raw_disk", N_("This machine has a disk that is not qcow2: it cannot hold snapshots."), false },
    { "uefi_memory", N_("A UEFI machine's snapshot cannot hold its memory; take a disk-only "
                        "snapshot of it stopped."), false },
    { "name_taken", N_("This machine already has a snapshot of that name."), false },
    { "quota_exceeded", N_("This would pass the owner's disk quota."), true },
    { "snapshot_busy", N_("This snapshot is still being taken."), false },
    { "snapshot_missing", N_("libvirt no longer has this snapshot; delete it here."), false },
    { "not_a_chain", N_("The source snapshot is not an ancestor of the target."), false },
    { "snapshot_pinned", N_("A pinned snapshot is in the chain; unpin it first."), false },
    /* issue 16: backups */
    { "backup_running", N_("A backup of this machine is under way."), false },
    { "backup_not_ready", N_("This backup is not ready."), false },
    { "backup_failed", N_("The backup failed."), true },
    { "vm_running", N_("Stop the machine before restoring over it."), false },
    { "has_snapshots",
      N_("This machine has snapshots, which a restored disk would not hold; delete them first."),
      false },
    { "has_incrementals", N_("Incremental backups build on this one; delete them first."), false },
    { "chain_broken", N_("A backup this one builds on is missing."), false },
    { "checksum_mismatch", N_("A backup file does not match its checksum."), true },
    { "vm_gone", N_("This backup's machine is gone."), false },
    { "no_disks", N_("This machine has no disk to back up."), false },
    { "has_checkpoints",
      N_("This machine's backups keep checkpoints: a stopped machine's disk-only snapshot cannot "
         "be taken with them. Take one with its memory while it runs, or delete its backups."),
      false },
    /* issue 17: NIC limits and tags (helper/ops/hardware.c) */
    { "bandwidth_unsupported", N_("This host's kernel cannot limit NIC bandwidth."), true },
    { "vlan_unsupported", N_("VLAN tags need a network on an Open vSwitch bridge."), true },
    /* issue 19: placement of a new VM (helper/ops/placement.c) */
    { "no_room", N_("The host has no room for this virtual machine."), true },
    { "host_disabled", N_("This host takes no new virtual machines."), true },
    { "host_unavailable", N_("The host does not answer."), true },
    { "unknown_host", N_("There is no such host."), false },
    { "no_host", N_("No host takes new virtual machines."), false },
};

char *helper_error_text(const char *code, const char *message)
{
    message = message ? message : "";
    for (size_t i = 0; code && i < G_N_ELEMENTS(helper_messages); i++) {
        if (strcmp(code, helper_messages[i].code))
            continue;
        const char *text = _(helper_messages[i].text);
        if (text == helper_messages[i].text)   /* English: the helper's own words */
            break;
        return helper_messages[i].detail && *message ? g_strdup_printf("%s (%s)", text, message)
                                                     : g_strdup(text);
    }
    return g_strdup(message);
}

static void fail_from_helper(struct req *r, json_t *error)
{
    int status = (int)json_integer_value(json_object_get(error, "status"));
    const char *code = json_string_value(json_object_get(error, "code")) ?: "helper_error";
    const char *field = json_string_value(json_object_get(error, "field"));
    const char *message = json_string_value(json_object_get(error, "message")) ?: "";
    if (status < 400 || status >= 600)
        status = 502;
    for (size_t i = 0; r->lang && strcmp(r->lang, "en") && i < G_N_ELEMENTS(helper_messages); i++) {
        if (strcmp(code, helper_messages[i].code))
            continue;
        if (helper_messages[i].detail && *message)
            req_fail(r, status, code, field, "%s (%s)", _(helper_messages[i].text), message);
        else
            req_fail(r, status, code, field, "%s", _(helper_messages[i].text));
        return;
    }
    req_fail(r, status, code, field, "%s", message);
}

/* The proof of who is acting that the helper checks against the
 * database: the raw token this request was authenticated with. */
static json_t *credential_of(const struct req *r)
{
    const char *api_token = api_token_of(r);
    if (api_token)
        return json_pack("{s:s}", "api_token", api_token);
    if (r->session_token)
        return json_pack("{s:s}", "session", r->session_token);
    return json_null();
}

json_t *helper_call(struct req *r, const char *op, json_t *args)
{
    json_t *request = json_pack("{s:s, s:O, s:o, s:o, s:s}", "op", op, "args",
                                args ? args : json_object(), "actor",
                                r->user ? json_integer(r->user->id) : json_null(), "credential",
                                r->user ? credential_of(r) : json_null(), "request_id",
                                r->request_id);
    json_t *reply = NULL, *data = NULL;
    int fd = helper_connect();
    int rc = fd < 0 ? FRAME_IO : frame_write_max(fd, request, FRAME_REQUEST_MAX_BYTES);
    bool too_large = rc == FRAME_TOO_LARGE;
    if (rc == FRAME_OK)
        rc = frame_read(fd, FRAME_REPLY_MAX_BYTES, &reply);
    if (fd >= 0)
        close(fd);
    json_decref(request);

    if (too_large) {
        log_error("helper request %s is larger than %d bytes", op, FRAME_REQUEST_MAX_BYTES);
        req_fail(r, 413, "request_too_large", NULL, _("The request is too large."));
    } else if (rc != FRAME_OK) {
        if (rc == FRAME_TOO_LARGE)
            log_error("helper reply to %s is larger than %d bytes", op, FRAME_REPLY_MAX_BYTES);
        req_fail(r, 503, "helper_unavailable", NULL,
                 _("The virtualization service is not available. Try again shortly."));
    } else if (json_is_true(json_object_get(reply, "ok"))) {
        data = json_incref(json_object_get(reply, "data"));
    } else {
        fail_from_helper(r, json_object_get(reply, "error"));
    }
    json_decref(reply);
    return data;
}

json_t *helper_call_id(struct req *r, const char *op, const char *key, long long id)
{
    json_t *args = json_pack("{s:I}", key, (json_int_t)id);
    json_t *done = helper_call(r, op, args);
    json_decref(args);
    return done;
}
