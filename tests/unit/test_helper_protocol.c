/* The helper's protocol: framing edge cases over a socketpair, then the
 * real vmm-helper on libvirt's test:///default driver. */
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "probe_guest.h"
#include "frame.h"
#include "unit.h"

START_TEST(test_frame_round_trip)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    json_t *out = json_pack("{s:s, s:s}", "op", "ping", "name", "测试服务器");
    ck_assert_int_eq(frame_write(sv[0], out), FRAME_OK);
    json_t *in = NULL;
    ck_assert_int_eq(frame_read(sv[1], 1024, &in), FRAME_OK);
    ck_assert(json_equal(in, out));
    json_decref(in);
    json_decref(out);
    close(sv[0]);
    ck_assert_int_eq(frame_read(sv[1], 1024, &in), FRAME_EOF);
    close(sv[1]);
}
END_TEST

struct raw_case {
    uint32_t length;      /* as announced */
    const char *body;     /* what follows */
    int expect;
};

static const struct raw_case raw_cases[] = {
    { 2000000000u, "", FRAME_TOO_LARGE },   /* refused before reading */
    { 1025, "{}", FRAME_TOO_LARGE },
    { 10, "{\"a\":", FRAME_IO },             /* peer stops mid-frame */
    { 5, "[1,2]", FRAME_BAD_JSON },
    { 3, "abc", FRAME_BAD_JSON },
    { 0, "", FRAME_BAD_JSON },
    { 14, "{\"a\":1,\"a\":2} ", FRAME_BAD_JSON },
};

START_TEST(test_frame_refusals)
{
    const struct raw_case *c = &raw_cases[_i];
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    uint32_t header = htonl(c->length);
    ck_assert_int_eq(write(sv[0], &header, 4), 4);
    ck_assert_int_eq(write(sv[0], c->body, strlen(c->body)), (ssize_t)strlen(c->body));
    close(sv[0]);
    json_t *in = NULL;
    ck_assert_int_eq(frame_read(sv[1], 1024, &in), c->expect);
    ck_assert_ptr_null(in);
    close(sv[1]);
}
END_TEST

/* The real helper, on the test driver, listening in a temp dir. */
static pid_t helper_pid;
static char socket_path[108];

static int connect_helper(void)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    strcpy(addr.sun_path, socket_path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    return connect(fd, (struct sockaddr *)&addr, sizeof addr) == 0 ? fd : (close(fd), -1);
}

static void start_helper(void)
{
    char *dir = g_dir_make_tmp("vmm-helper-XXXXXX", NULL);
    snprintf(socket_path, sizeof socket_path, "%s/helper.sock", dir);
    g_free(dir);
    helper_pid = fork();
    if (helper_pid == 0) {
        setenv("VMM_HELPER_SOCKET", socket_path, 1);
        setenv("VMM_HELPER_LIBVIRT_URI", "test:///default", 1);
        setenv("VMM_HELPER_ACCEL", "qemu", 1);
        setenv("VMM_HELPER_CLIENT_USER", "root", 1);
        unsetenv("VMM_CONFIG");
        execl(HELPER_BIN, "vmm-helper", (char *)NULL);
        _exit(127);
    }
    /* Wait for the socket with a deadline, not a fixed sleep. */
    struct timespec start, now, pause = { 0, 20 * 1000 * 1000 };
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int fd = connect_helper();
        if (fd >= 0) {
            close(fd);
            return;
        }
        clock_gettime(CLOCK_MONOTONIC, &now);
        ck_assert_msg(now.tv_sec - start.tv_sec < 10, "helper did not start");
        nanosleep(&pause, NULL);
    }
}

static void stop_helper(void)
{
    kill(helper_pid, SIGTERM);
    waitpid(helper_pid, NULL, 0);
    unlink(socket_path);
}

static json_t *call(int fd, const char *request_json)
{
    json_t *request = json_loads(request_json, 0, NULL);
    ck_assert_ptr_nonnull(request);
    ck_assert_int_eq(frame_write(fd, request), FRAME_OK);
    json_decref(request);
    json_t *reply = NULL;
    ck_assert_int_eq(frame_read(fd, 1 << 20, &reply), FRAME_OK);
    return reply;
}

static const char *error_code(json_t *reply)
{
    return json_string_value(json_object_get(json_object_get(reply, "error"), "code"));
}

START_TEST(test_helper_answers)
{
    int fd = connect_helper();
    ck_assert_int_ge(fd, 0);

    json_t *reply = call(fd, "{\"op\":\"ping\"}");
    ck_assert(json_is_true(json_object_get(reply, "ok")));
    json_decref(reply);

    reply = call(fd, "{\"op\":\"host.info\",\"args\":{}}");
    ck_assert_msg(json_is_true(json_object_get(reply, "ok")), "%s", error_code(reply));
    json_t *data = json_object_get(reply, "data");
    ck_assert_int_gt(json_integer_value(json_object_get(data, "cpus")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(data, "accel")), "qemu");
    ck_assert_str_eq(json_string_value(json_object_get(data, "accel_source")), "config");
    json_decref(reply);

    reply = call(fd, "{\"op\":\"format.disk\"}");
    ck_assert(json_is_false(json_object_get(reply, "ok")));
    ck_assert_str_eq(error_code(reply), "unknown_op");
    json_decref(reply);

    reply = call(fd, "{\"op\":\"ping\",\"args\":{\"path\":\"/etc/shadow\"}}");
    ck_assert_str_eq(error_code(reply), "unknown_field");
    json_decref(reply);

    /* A request larger than the limit is refused and the stream closed. */
    uint32_t header = htonl(FRAME_MAX_BYTES + 1);
    ck_assert_int_eq(write(fd, &header, 4), 4);
    ck_assert_int_eq(frame_read(fd, 1 << 20, &reply), FRAME_OK);
    ck_assert_str_eq(error_code(reply), "request_too_large");
    json_decref(reply);
    ck_assert_int_eq(frame_read(fd, 1 << 20, &reply), FRAME_EOF);
    close(fd);
}
END_TEST

/* The accelerator probe's guest must really run and print its marker
 * under TCG, or the probe could never tell a working KVM from a broken
 * one. Here QEMU runs it directly; the probe runs it through libvirt. */
START_TEST(test_probe_guest_prints_marker)
{
    char *dir = g_dir_make_tmp("vmm-probe-XXXXXX", NULL);
    char *disk = g_build_filename(dir, "x86_64.img", NULL);
    char *serial = g_build_filename(dir, "serial.log", NULL);
    char *serial_arg = g_strdup_printf("file:%s", serial);
    char *drive = g_strdup_printf("file=%s,format=raw,if=virtio", disk);
    ck_assert_int_eq(probe_write_x86_disk(disk), 0);
    char *argv[] = { "qemu-system-x86_64", "-machine", "q35,accel=tcg",
                     "-nodefaults", "-no-user-config", "-display", "none", "-m", "32",
                     "-serial", serial_arg, "-drive", drive, NULL };
    GPid pid;
    ck_assert(g_spawn_async(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
                                                  G_SPAWN_STDOUT_TO_DEV_NULL |
                                                  G_SPAWN_STDERR_TO_DEV_NULL,
                            NULL, NULL, &pid, NULL));
    bool seen = false;
    for (int i = 0; i < 300 && !seen; i++) {   /* 30 s */
        char *text = NULL;
        seen = g_file_get_contents(serial, &text, NULL, NULL) && strstr(text, PROBE_MARKER);
        g_free(text);
        if (!seen)
            g_usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    ck_assert_msg(seen, "the probe guest printed no marker");
    unlink(disk);
    unlink(serial);
    rmdir(dir);
    g_free(drive);
    g_free(serial_arg);
    g_free(serial);
    g_free(disk);
    g_free(dir);
}
END_TEST

static const struct {
    const char *in;
    size_t max;
    const char *out;
} cut_cases[] = {
    { "short", 20, "short" },
    { "Could not access KVM kernel module: Permission denied", 30, "Could not access KVM kernel..." },
    { "one\nline\ttab", 40, "one line tab" },
    { "abcdefghijklmnopqrstuvwxyz", 10, "abcdefg..." },
    { "测试服务器测试服务器", 10, "测试..." },   /* never half a character */
    { NULL, 10, "" },
};

START_TEST(test_reason_cut)
{
    char *cut = probe_reason_cut(cut_cases[_i].in, cut_cases[_i].max);
    ck_assert_str_eq(cut, cut_cases[_i].out);
    ck_assert_uint_le(strlen(cut), cut_cases[_i].max);
    g_free(cut);
}
END_TEST

START_TEST(test_qemu_log_and_kvm_errors)
{
    const char *log =
        "2026-12-02 02:30:47.000+0000: starting up libvirt version: 9.0.0\n"
        "LC_ALL=C /usr/bin/qemu-system-x86_64 \\\n-name guest=x \\\n"
        "2026-12-02T02:30:48.310628Z qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69\n"
        "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: kvm_buf_set_msrs: Assertion failed.\n"
        "2026-12-02 02:30:50.116+0000: shutting down, reason=failed\n";
    char *errors = probe_qemu_log_errors(log);
    ck_assert_str_eq(errors, "qemu-system-x86_64: error: failed to set MSR 0x10a to 0x69 "
                             "qemu-system-x86_64: ../../target/i386/kvm/kvm.c:3183: "
                             "kvm_buf_set_msrs: Assertion failed.");
    g_free(errors);
    ck_assert_ptr_null(probe_qemu_log_errors("starting up\nLC_ALL=C /usr/bin/qemu-system-x86_64 \\\n"));
    ck_assert(probe_error_is_kvm("Could not access KVM kernel module: Permission denied"));
    ck_assert(probe_error_is_kvm("error: failed to set MSR 0x10a to 0x69"));
    ck_assert(!probe_error_is_kvm("Cannot access storage file '/x.qcow2': No such file"));
    ck_assert(!probe_error_is_kvm(NULL));
}
END_TEST

static Suite *helper_protocol_suite(void)
{
    Suite *s = suite_create("helper_protocol");
    TCase *frames = tcase_create("frames");
    tcase_add_test(frames, test_frame_round_trip);
    tcase_add_loop_test(frames, test_frame_refusals, 0, G_N_ELEMENTS(raw_cases));
    suite_add_tcase(s, frames);
    TCase *helper = tcase_create("helper");
    tcase_add_checked_fixture(helper, start_helper, stop_helper);
    tcase_set_timeout(helper, 30);
    tcase_add_test(helper, test_helper_answers);
    suite_add_tcase(s, helper);
    TCase *probe = tcase_create("probe");
    tcase_set_timeout(probe, 60);
    tcase_add_test(probe, test_probe_guest_prints_marker);
    tcase_add_loop_test(probe, test_reason_cut, 0, G_N_ELEMENTS(cut_cases));
    tcase_add_test(probe, test_qemu_log_and_kvm_errors);
    suite_add_tcase(s, probe);
    return s;
}

UNIT_MAIN(helper_protocol_suite)
