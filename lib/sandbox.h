/* The sandbox in which every tool reads a user's image (qemu-img info,
 * check, convert; the OVA reader). A user's file has crashed and fooled
 * qemu-img before, so a tool that opens one runs:
 *  - as the unprivileged [sandbox] user (vmm-img: a system user of its
 *    own, owning nothing, so a fooled tool reaches only world-readable
 *    files; nobody is shared with other daemons and NFS-squashed files),
 *    no supplementary groups, no new privileges, in a session of its own
 *    (killed as a group afterwards), with no network where the kernel
 *    lets us (a network namespace of its own);
 *  - under RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE and RLIMIT_NPROC, and a
 *    wall-clock deadline;
 *  - in a private directory D ([sandbox] dir/<random>, root:vmm-img 0750)
 *    holding only the file, as D/image (root-owned 0640, or a hard link
 *    to a pool file: the tool can read it, never change or replace it),
 *    and D/out/ (vmm-img 0700) for what the tool writes;
 *  - with the environment cleared.
 * What the tool writes is taken over by sandbox_claim() only after it is
 * checked to be a plain file of the sandbox user, never a link. */
#ifndef VMM_SANDBOX_H
#define VMM_SANDBOX_H

#include <stdbool.h>

#include "http.h"

struct sandbox;

/* Limits of one run. Zero means: the default of its field. */
struct sandbox_limits {
    long long cpu_s;        /* RLIMIT_CPU (default 60) */
    long long wall_s;       /* killed after this long (default 4 x cpu_s) */
    long long as_bytes;     /* RLIMIT_AS (default 1 GiB; -1: none) */
    long long fsize_bytes;  /* RLIMIT_FSIZE; -1: no file may be written (default) */
};

/* Called about once a second while a tool runs; false kills it. */
typedef bool (*sandbox_tick_fn)(void *ctx);

/* A new private directory. NULL with err set (503 sandbox_unavailable)
 * when the sandbox user is missing or the directory cannot be made. */
struct sandbox *sandbox_new(struct err *err);
/* Puts the file at path into the sandbox as D/image: moved (renamed, or
 * copied from another filesystem; then root's 0640 group vmm-img), or with
 * keep set left where it is (a pool file): hard-linked if world-readable,
 * else copied. 0 or -1 (err). */
int sandbox_adopt(struct sandbox *sb, const char *path, bool keep, struct err *err);
/* Writes data as D/name (root's 0640, group of the sandbox user), an
 * input the tool reads beside the image: files the helper made itself
 * (a cloud-init seed's meta-data and user-data). 0 or -1 (err). */
int sandbox_put(struct sandbox *sb, const char *name, const char *data, size_t len,
                struct err *err);
/* D/image, the path to give a tool (relative to D, the tool's cwd). */
#define SANDBOX_IMAGE "image"
/* Absolute path of D/image. */
const char *sandbox_image_path(const struct sandbox *sb);
/* Runs argv[0] (a program, searched in PATH, or an absolute path) in D
 * with the limits. Its stdout (at most 1 MiB) goes to *out when out is
 * given. Returns the exit status (0-255), or -1 with err set when it
 * could not run, was killed (limits, deadline) or tick said stop (then
 * err's code is "cancelled"). */
int sandbox_run(struct sandbox *sb, const struct sandbox_limits *limits, char *const argv[],
                char **out, sandbox_tick_fn tick, void *ctx, struct err *err);
/* D/out/<name>, written by a tool, replaces D/image: it must be a plain
 * file of the sandbox user with one link; it becomes root's 0640. */
int sandbox_claim(struct sandbox *sb, const char *name, struct err *err);
/* Moves D/image to path (renamed, or copied across filesystems), root's
 * 0600 (who else may read it is pool_file_protect()'s). 0 or -1 (err). */
int sandbox_release(struct sandbox *sb, const char *path, struct err *err);
/* Removes D and all in it. NULL-safe. */
void sandbox_free(struct sandbox *sb);
/* Removes sandboxes older than this, left by a process that died (the
 * helper at start: none of its own runs yet). */
void sandbox_sweep(long long older_than_s);

#endif
