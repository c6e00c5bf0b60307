#define _GNU_SOURCE
#include "sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <glib.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "token.h"

#define OUT_MAX_BYTES (1 << 20)
#define ERR_KEEP_BYTES 2048
/* Processes and threads of the sandbox user, all runs together: qemu-img
 * uses a few threads; a fork bomb meets this. */
#define NPROC_MAX 256

struct sandbox {
    char *dir;          /* D */
    char *image;        /* D/image */
    uid_t uid;
    gid_t gid;
};

static const char *sandbox_base(void)
{
    const char *dir = config_str("sandbox", "dir", NULL);
    if (dir && *dir)
        return dir;
    static char *fallback;   /* interned: config strings live until exit too */
    if (!fallback) {
        char *p = g_strdup_printf("%s/sandbox", config_str("helper", "pool_dir", "/var/lib/vmm"));
        fallback = (char *)g_intern_string(p);
        g_free(p);
    }
    return fallback;
}

static int unavailable(struct err *err, const char *what)
{
    log_error("sandbox: %s: %s", what, strerror(errno));
    return err_set(err, 503, "sandbox_unavailable", NULL,
                   "The image cannot be inspected now (the sandbox is not available).");
}

struct sandbox *sandbox_new(struct err *err)
{
    const char *user = config_str("sandbox", "user", "vmm-img");
    struct passwd pw, *found = NULL;
    char buf[1024];
    if (getpwnam_r(user, &pw, buf, sizeof buf, &found) != 0 || !found || found->pw_uid == 0) {
        log_error("sandbox: user %s does not exist (or is root)", user);
        err_set(err, 503, "sandbox_unavailable", NULL,
                "The image cannot be inspected now (the sandbox is not available).");
        return NULL;
    }
    const char *base = sandbox_base();
    if (g_mkdir_with_parents(base, 0711) < 0 || chmod(base, 0711) < 0) {
        unavailable(err, base);
        return NULL;
    }
    char token[TOKEN_HEX_LEN + 1];
    token_new(token);
    struct sandbox *sb = g_new0(struct sandbox, 1);
    sb->uid = found->pw_uid;
    sb->gid = found->pw_gid;
    sb->dir = g_strdup_printf("%s/%.16s", base, token);
    sb->image = g_strdup_printf("%s/" SANDBOX_IMAGE, sb->dir);
    char *out = g_strdup_printf("%s/out", sb->dir);
    /* Made 0700 and only then opened to the sandbox group: never wider. */
    int rc = mkdir(sb->dir, 0700) == 0 && chown(sb->dir, 0, sb->gid) == 0 &&
             chmod(sb->dir, 0750) == 0 && mkdir(out, 0700) == 0 &&
             chown(out, sb->uid, sb->gid) == 0 ? 0 : -1;
    g_free(out);
    if (rc < 0) {
        unavailable(err, sb->dir);
        sandbox_free(sb);
        return NULL;
    }
    return sb;
}

const char *sandbox_image_path(const struct sandbox *sb)
{
    return sb->image;
}

/* A copy of from at to (made anew, never followed; sparse holes are not
 * kept). sendfile: copy_file_range refuses two kinds of filesystem. */
static int copy_file(const char *from, const char *to)
{
    int in = open(from, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int out = in < 0 ? -1 : open(to, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    ssize_t n = 0;
    while (out >= 0 && ((n = sendfile(out, in, NULL, 1 << 30)) > 0 || (n < 0 && errno == EINTR)))
        ;
    int rc = in >= 0 && out >= 0 && n == 0 && fsync(out) == 0 ? 0 : -1;
    if (in >= 0)
        close(in);
    if (out >= 0 && close(out) < 0)
        rc = -1;
    if (rc < 0 && out >= 0)
        unlink(to);
    return rc;
}

/* rename(), or across filesystems a copy and the source removed. */
static int move_file(const char *from, const char *to)
{
    if (rename(from, to) == 0)
        return 0;
    if (errno != EXDEV || copy_file(from, to) < 0)
        return -1;
    unlink(from);
    return 0;
}

int sandbox_adopt(struct sandbox *sb, const char *path, bool keep, struct err *err)
{
    if (keep) {
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            return err_set(err, 503, "storage_error", NULL, "The image's file is missing.");
        /* A file the sandbox user may read is linked; another is copied,
         * since the pool's file keeps its owner and mode. */
        if ((st.st_mode & S_IROTH) ? link(path, sb->image) < 0
                                   : copy_file(path, sb->image) < 0 ||
                                         chown(sb->image, 0, sb->gid) < 0 ||
                                         chmod(sb->image, 0640) < 0)
            return unavailable(err, path);
        return 0;
    }
    /* A renamed first chunk is still nginx's file: make it ours. */
    if (move_file(path, sb->image) < 0 || chown(sb->image, 0, sb->gid) < 0 ||
        chmod(sb->image, 0640) < 0)
        return err_set(err, 503, "storage_error", NULL, "The image could not be stored.");
    return 0;
}

int sandbox_put(struct sandbox *sb, const char *name, const char *data, size_t len,
                struct err *err)
{
    if (!name[0] || strchr(name, '/') || name[0] == '.' || !strcmp(name, SANDBOX_IMAGE) ||
        !strcmp(name, "out"))
        return err_set(err, 500, "internal_error", NULL, "A sandbox file needs a plain name.");
    char *path = g_build_filename(sb->dir, name, NULL);
    GError *error = NULL;
    int rc = 0;
    /* Written by root, read-only for the tool: it cannot change its input. */
    if (!g_file_set_contents_full(path, data, (gssize)len, G_FILE_SET_CONTENTS_NONE, 0640, &error) ||
        chown(path, 0, sb->gid) < 0 || chmod(path, 0640) < 0)
        rc = unavailable(err, path);
    g_clear_error(&error);
    g_free(path);
    return rc;
}

/* --- running a tool ------------------------------------------------------ */

static long long limit_or(long long value, long long fallback)
{
    return value ? value : fallback;
}

static void child_limit(int resource, long long value)
{
    rlim_t v = value < 0 ? RLIM_INFINITY : (rlim_t)value;
    struct rlimit rl = { .rlim_cur = v, .rlim_max = v };
    if (setrlimit(resource, &rl) < 0)
        _exit(126);
}

/* Between fork and exec: system calls only (the helper has threads). */
static void __attribute__((noreturn))
child_exec(const struct sandbox *sb, const struct sandbox_limits *l, const char *path,
           char *const argv[], char *const envp[], int in, int out, int errfd)
{
    setsid();
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* No network: protocol filenames (nbd:, http:) reach nothing. Not all
     * kernels let us (a container); the file rules refuse them anyway. */
    (void)unshare(CLONE_NEWNET);
    if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
        _exit(126);
    close_range(3, ~0U, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);   /* the helper ignores it; exec keeps SIG_IGN */
    child_limit(RLIMIT_CPU, l->cpu_s);
    child_limit(RLIMIT_AS, l->as_bytes);
    child_limit(RLIMIT_FSIZE, l->fsize_bytes < 0 ? 0 : l->fsize_bytes);
    child_limit(RLIMIT_NPROC, NPROC_MAX);
    child_limit(RLIMIT_CORE, 0);
    /* The raw calls change this thread only, which is all the child has. */
    if (syscall(SYS_setgroups, 0, NULL) < 0 ||
        syscall(SYS_setresgid, sb->gid, sb->gid, sb->gid) < 0 ||
        syscall(SYS_setresuid, sb->uid, sb->uid, sb->uid) < 0 || geteuid() == 0)
        _exit(126);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    if (chdir(sb->dir) < 0)
        _exit(126);
    umask(077);
    execve(path, argv, envp);
    _exit(127);
}

static long long now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

/* Reads what is there; false at end of file or error. */
static bool drain(int fd, GString *into, size_t keep)
{
    char buf[16384];
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    if (into->len < keep)
        g_string_append_len(into, buf, MIN((size_t)n, keep - into->len + 1));
    return true;
}

int sandbox_run(struct sandbox *sb, const struct sandbox_limits *limits, char *const argv[],
                char **out, sandbox_tick_fn tick, void *ctx, struct err *err)
{
    struct sandbox_limits l = {
        .cpu_s = limit_or(limits ? limits->cpu_s : 0, 60),
        .as_bytes = limit_or(limits ? limits->as_bytes : 0, 1LL << 30),
        .fsize_bytes = limit_or(limits ? limits->fsize_bytes : 0, -1),
    };
    l.wall_s = limit_or(limits ? limits->wall_s : 0, 4 * l.cpu_s);
    char *path = argv[0][0] == '/' ? g_strdup(argv[0]) : g_find_program_in_path(argv[0]);
    char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", "LANG=C",
                           "HOME=/nonexistent", NULL };
    int in = open("/dev/null", O_RDONLY | O_CLOEXEC), po[2] = { -1, -1 }, pe[2] = { -1, -1 };
    if (!path || in < 0 || pipe2(po, O_CLOEXEC) < 0 || pipe2(pe, O_CLOEXEC) < 0) {
        g_free(path);
        int fds[] = { in, po[0], po[1], pe[0], pe[1] };
        for (size_t i = 0; i < G_N_ELEMENTS(fds); i++)
            if (fds[i] >= 0)
                close(fds[i]);
        return unavailable(err, argv[0]);
    }
    pid_t pid = fork();
    if (pid == 0)
        child_exec(sb, &l, path, argv, envp, in, po[1], pe[1]);
    close(in);
    close(po[1]);
    close(pe[1]);
    g_free(path);
    if (pid < 0) {
        close(po[0]);
        close(pe[0]);
        return unavailable(err, "fork");
    }

    GString *so = g_string_new(NULL), *se = g_string_new(NULL);
    bool open_out = true, open_err = true, stop = false;
    const char *why = NULL;
    long long deadline = now_s() + l.wall_s, last_tick = now_s();
    siginfo_t info;
    for (;;) {
        struct pollfd fds[2] = { { open_out ? po[0] : -1, POLLIN, 0 },
                                 { open_err ? pe[0] : -1, POLLIN, 0 } };
        poll(fds, 2, 200);
        if (open_out && fds[0].revents)
            open_out = drain(po[0], so, OUT_MAX_BYTES);
        if (open_err && fds[1].revents)
            open_err = drain(pe[0], se, ERR_KEEP_BYTES);
        if (so->len > OUT_MAX_BYTES) {
            why = "too much output";
        } else if (now_s() > deadline) {
            why = "deadline";
        } else if (tick && now_s() != last_tick) {
            last_tick = now_s();
            if (!tick(ctx)) {
                why = "cancelled";
                stop = true;
            }
        }
        /* Exited, not yet reaped: its pid stays its group's while we kill. */
        memset(&info, 0, sizeof info);
        if (!open_out && !open_err &&
            waitid(P_PID, pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid)
            break;
        if (why)
            break;
    }
    kill(-pid, SIGKILL);   /* the tool's session: whatever it left running */
    kill(pid, SIGKILL);    /* and the tool, should it not have its session yet */
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    close(po[0]);
    close(pe[0]);

    int rc;
    char *first = g_strndup(se->str, strcspn(se->str, "\n"));
    if (why || !WIFEXITED(status)) {
        log_warn("sandbox: %s stopped (%s, signal %d): %s", argv[0], why ? why : "killed",
                 WIFSIGNALED(status) ? WTERMSIG(status) : 0, first);
        rc = stop ? err_set(err, 409, "cancelled", NULL, "Cancelled.")
                  : err_set(err, 422, "image_too_costly", NULL,
                            "Reading the image took too long or too much memory; it was stopped.");
    } else {
        rc = WEXITSTATUS(status);
        if (rc == 126 || rc == 127) {
            errno = 0;
            rc = unavailable(err, first[0] ? first : argv[0]);
        } else if (rc != 0 && first[0]) {
            log_info("sandbox: %s exit %d: %s", argv[0], rc, first);
        }
    }
    g_free(first);
    g_string_free(se, TRUE);
    if (out && rc >= 0)
        *out = g_string_free(so, FALSE);
    else
        g_string_free(so, TRUE);
    return rc;
}

/* --- taking over what a tool wrote --------------------------------------- */

int sandbox_claim(struct sandbox *sb, const char *name, struct err *err)
{
    if (strchr(name, '/') || name[0] == '.')
        return err_set(err, 500, "internal", NULL, "Bad sandbox file name.");
    char *from = g_strdup_printf("%s/out/%s", sb->dir, name);
    int fd = open(from, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    struct stat st, now;
    int rc = -1;
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != sb->uid ||
        st.st_nlink != 1) {
        err_set(err, 422, "bad_image", NULL, "The image could not be converted.");
        goto out;
    }
    /* Renamed, then checked to be the very file we opened. */
    unlink(sb->image);
    if (rename(from, sb->image) < 0 || lstat(sb->image, &now) < 0 || now.st_ino != st.st_ino ||
        now.st_dev != st.st_dev || fchown(fd, 0, sb->gid) < 0 || fchmod(fd, 0640) < 0) {
        unlink(sb->image);
        err_set(err, 422, "bad_image", NULL, "The image could not be converted.");
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    g_free(from);
    return rc;
}

int sandbox_release(struct sandbox *sb, const char *path, struct err *err)
{
    if (move_file(sb->image, path) < 0 || chown(path, 0, 0) < 0 || chmod(path, 0600) < 0) {
        unlink(path);
        return err_set(err, 503, "storage_error", NULL, "The image could not be stored.");
    }
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

void sandbox_sweep(long long older_than_s)
{
    GDir *dir = g_dir_open(sandbox_base(), 0, NULL);
    const char *name;
    time_t now = time(NULL);
    while (dir && (name = g_dir_read_name(dir))) {
        char *path = g_build_filename(sandbox_base(), name, NULL);
        struct stat st;
        if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && now - st.st_mtime >= older_than_s) {
            log_warn("sandbox: removing %s, left by an earlier run", path);
            nftw(path, remove_entry, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
        }
        g_free(path);
    }
    if (dir)
        g_dir_close(dir);
}

void sandbox_free(struct sandbox *sb)
{
    if (!sb)
        return;
    /* Depth first, never following links nor leaving the filesystem. */
    nftw(sb->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
    g_free(sb->dir);
    g_free(sb->image);
    g_free(sb);
}
