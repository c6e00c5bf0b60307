/* The sandbox runner: who a tool runs as, where, with what it may reach,
 * and that its limits, deadline and cancel stop it. Needs root and the
 * sandbox user (tools/dev creates vmm-img); skipped otherwise. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox.h"
#include "unit.h"

static char base[] = "/tmp/vmm-test-sandbox-XXXXXX";
static uid_t sandbox_uid;

static bool usable(void)
{
    struct passwd *pw = getpwnam("vmm-img");
    if (geteuid() != 0 || !pw) {
        fprintf(stderr, "test_sandbox: needs root and the user vmm-img; skipped\n");
        return false;
    }
    sandbox_uid = pw->pw_uid;
    return true;
}

static void setup(void)
{
    if (!mkdtemp(base))
        ck_abort_msg("mkdtemp");
    chmod(base, 0711);
    setenv("VMM_SANDBOX_DIR", base, 1);
    setenv("VMM_SANDBOX_USER", "vmm-img", 1);
    setenv("VMM_SECRET_OF_THE_HELPER", "x", 1);
}

static void teardown(void)
{
    char *upload = g_strdup_printf("%s/upload", base);
    unlink(upload);
    g_free(upload);
    rmdir(base);
}

static struct sandbox *with_image(const char *content)
{
    char path[256];
    snprintf(path, sizeof path, "%s/upload", base);
    FILE *f = fopen(path, "w");
    fputs(content, f);
    fclose(f);
    struct err err = { 0 };
    struct sandbox *sb = sandbox_new(&err);
    ck_assert_msg(sb, "%s", err.message);
    ck_assert_int_eq(sandbox_adopt(sb, path, false, &err), 0);
    return sb;
}

static int run(struct sandbox *sb, const struct sandbox_limits *l, const char *script, char **out,
               struct err *err)
{
    char *argv[] = { "/bin/sh", "-c", (char *)script, NULL };
    return sandbox_run(sb, l, argv, out, NULL, NULL, err);
}

START_TEST(test_who_where_what)
{
    if (!usable())
        return;
    struct sandbox *sb = with_image("the image\n");
    struct err err = { 0 };
    char *out = NULL;
    ck_assert_int_eq(run(sb, NULL, "id -u; id -G; pwd; ls -A; cat image; env | sort", &out, &err), 0);
    char *expect = g_strdup_printf("%u\n", (unsigned)sandbox_uid);
    ck_assert_msg(g_str_has_prefix(out, expect), "runs as vmm-img: %s", out);
    ck_assert_msg(strstr(out, "\nimage\nout\n"), "D holds the image and out/ only: %s", out);
    ck_assert_msg(strstr(out, "the image\n"), "reads its image: %s", out);
    ck_assert_msg(!strstr(out, "VMM_"), "the environment is cleared: %s", out);
    g_free(expect);
    g_free(out);
    /* It may not change the image, nor reach a root-only file (a file size
     * limit of its own would stop the write anyway: lift it). */
    const struct sandbox_limits writes = { .fsize_bytes = 1 << 20 };
    ck_assert_int_eq(run(sb, &writes, "echo x >> image && exit 0; exit 3", NULL, &err), 3);
    ck_assert_int_ne(run(sb, NULL, "rm -f image && exit 0; exit 3", NULL, &err), 0);
    ck_assert_int_ne(run(sb, NULL, "cat /etc/shadow >/dev/null", NULL, &err), 0);
    ck_assert_int_eq(run(sb, NULL, "exit 7", NULL, &err), 7);
    /* No network: a namespace of its own, where the kernel allows one. */
    if (system("unshare -n true 2>/dev/null") == 0) {
        char here[64] = "";
        ssize_t n = readlink("/proc/self/ns/net", here, sizeof here - 1);
        here[n > 0 ? n : 0] = '\0';
        ck_assert_int_eq(run(sb, NULL, "readlink /proc/self/ns/net", &out, &err), 0);
        ck_assert_msg(!g_str_has_prefix(out, here), "a network namespace of its own: %s", out);
        g_free(out);
    }
    sandbox_free(sb);
}
END_TEST

START_TEST(test_limits_stop_it)
{
    if (!usable())
        return;
    struct sandbox *sb = with_image("x");
    struct err err = { 0 };
    const struct sandbox_limits cpu = { .cpu_s = 1, .wall_s = 20 };
    ck_assert_int_eq(run(sb, &cpu, "while :; do :; done", NULL, &err), -1);
    ck_assert_str_eq(err.code, "image_too_costly");

    memset(&err, 0, sizeof err);
    const struct sandbox_limits wall = { .cpu_s = 5, .wall_s = 1 };
    ck_assert_int_eq(run(sb, &wall, "sleep 30", NULL, &err), -1);
    ck_assert_str_eq(err.code, "image_too_costly");

    memset(&err, 0, sizeof err);
    const struct sandbox_limits fsize = { .fsize_bytes = 4096 };
    ck_assert_int_eq(run(sb, &fsize, "exec head -c 100000 /dev/zero > out/big", NULL, &err), -1);
    ck_assert_str_eq(err.code, "image_too_costly");
    /* By default nothing may be written at all. */
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(run(sb, NULL, "echo x > out/small", NULL, &err), -1);

    /* A background process does not outlive its tool. */
    memset(&err, 0, sizeof err);
    char *out = NULL;
    ck_assert_int_eq(run(sb, NULL, "sleep 30 </dev/null >/dev/null 2>&1 & echo $!", &out, &err), 0);
    int pid = atoi(out);
    g_free(out);
    ck_assert_int_gt(pid, 0);
    bool gone = false;
    for (int i = 0; i < 100 && !gone; i++, usleep(20000)) {
        char stat_path[64], *stat = NULL;
        snprintf(stat_path, sizeof stat_path, "/proc/%d/stat", pid);
        gone = !g_file_get_contents(stat_path, &stat, NULL, NULL) || strstr(stat, ") Z ");
        g_free(stat);
    }
    ck_assert_msg(gone, "the background sleep %d was killed with its tool", pid);
    sandbox_free(sb);
}
END_TEST

static bool stop_now(void *ctx)
{
    (void)ctx;
    return false;
}

START_TEST(test_cancel)
{
    if (!usable())
        return;
    struct sandbox *sb = with_image("x");
    struct err err = { 0 };
    char *argv[] = { "/bin/sh", "-c", "sleep 30", NULL };
    ck_assert_int_eq(sandbox_run(sb, NULL, argv, NULL, stop_now, NULL, &err), -1);
    ck_assert_str_eq(err.code, "cancelled");
    sandbox_free(sb);
}
END_TEST

START_TEST(test_claim)
{
    if (!usable())
        return;
    struct sandbox *sb = with_image("old");
    struct err err = { 0 };
    const struct sandbox_limits big = { .fsize_bytes = 1 << 20 };
    /* A link to a host file is never taken over. */
    ck_assert_int_eq(run(sb, &big, "ln -s /etc/shadow out/link", NULL, &err), 0);
    ck_assert_int_eq(sandbox_claim(sb, "link", &err), -1);
    memset(&err, 0, sizeof err);
    ck_assert_int_eq(run(sb, &big, "echo new > out/disk", NULL, &err), 0);
    ck_assert_int_eq(sandbox_claim(sb, "disk", &err), 0);
    struct stat st;
    ck_assert_int_eq(lstat(sandbox_image_path(sb), &st), 0);
    ck_assert_int_eq(st.st_uid, 0);
    ck_assert_int_eq(st.st_mode & 07777, 0640);
    char *text = NULL;
    ck_assert(g_file_get_contents(sandbox_image_path(sb), &text, NULL, NULL));
    ck_assert_str_eq(text, "new\n");
    g_free(text);
    /* Released into the pool; the sandbox goes entirely. */
    char *to = g_strdup_printf("%s/kept", base);
    ck_assert_int_eq(sandbox_release(sb, to, &err), 0);
    ck_assert_int_eq(stat(to, &st), 0);
    ck_assert_int_eq(st.st_mode & 07777, 0600);   /* private; pool_file_protect() opens it up */
    unlink(to);
    g_free(to);
    sandbox_free(sb);
    GDir *d = g_dir_open(base, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d)))
        ck_assert_msg(!strcmp(name, "upload"), "left behind: %s", name);
    g_dir_close(d);
}
END_TEST

/* From another filesystem (an upload area of its own): copied, then removed. */
START_TEST(test_adopt_across_filesystems)
{
    if (!usable() || access("/dev/shm", W_OK) < 0)
        return;
    char path[] = "/dev/shm/vmm-test-upload-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_eq(write(fd, "elsewhere", 9), 9);
    close(fd);
    struct err err = { 0 };
    struct sandbox *sb = sandbox_new(&err);
    ck_assert_int_eq(sandbox_adopt(sb, path, false, &err), 0);
    ck_assert_int_eq(access(path, F_OK), -1);
    char *out = NULL;
    ck_assert_int_eq(run(sb, NULL, "cat image", &out, &err), 0);
    ck_assert_str_eq(out, "elsewhere");
    g_free(out);
    sandbox_free(sb);
}
END_TEST

/* A pool file is left where it is: linked when the sandbox user may read
 * it, copied when not; either way the tool reads it and cannot change it. */
START_TEST(test_adopt_keeps_pool_files)
{
    if (!usable())
        return;
    const mode_t modes[] = { 0644, 0600 };
    for (size_t i = 0; i < G_N_ELEMENTS(modes); i++) {
        char *pool = g_strdup_printf("%s/pool-file", base);
        ck_assert(g_file_set_contents(pool, "template", -1, NULL));
        chmod(pool, modes[i]);
        struct err err = { 0 };
        struct sandbox *sb = sandbox_new(&err);
        ck_assert_int_eq(sandbox_adopt(sb, pool, true, &err), 0);
        char *out = NULL;
        ck_assert_int_eq(run(sb, NULL, "cat image", &out, &err), 0);
        ck_assert_str_eq(out, "template");
        g_free(out);
        const struct sandbox_limits writes = { .fsize_bytes = 1 << 20 };
        ck_assert_int_eq(run(sb, &writes, "echo x >> image && exit 0; exit 3", NULL, &err), 3);
        sandbox_free(sb);
        struct stat st;
        ck_assert_int_eq(stat(pool, &st), 0);
        ck_assert_int_eq(st.st_mode & 07777, modes[i]);
        ck_assert_int_eq(st.st_uid, 0);
        unlink(pool);
        g_free(pool);
    }
}
END_TEST

static Suite *sandbox_suite(void)
{
    setup();
    Suite *s = suite_create("sandbox");
    TCase *tc = tcase_create("sandbox");
    tcase_set_timeout(tc, 60);
    tcase_add_unchecked_fixture(tc, NULL, teardown);
    tcase_add_test(tc, test_who_where_what);
    tcase_add_test(tc, test_limits_stop_it);
    tcase_add_test(tc, test_cancel);
    tcase_add_test(tc, test_claim);
    tcase_add_test(tc, test_adopt_across_filesystems);
    tcase_add_test(tc, test_adopt_keeps_pool_files);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(sandbox_suite)
