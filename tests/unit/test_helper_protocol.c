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

#include "accel.h"
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

/* The KVM probe's tiny guest must really run and exit under TCG, or the
 * probe could never tell a working KVM from a broken one. */
START_TEST(test_accel_probe_guest_runs)
{
    ck_assert(accel_guest_runs("qemu-system-x86_64", "tcg", 20));
    ck_assert(!accel_guest_runs("qemu-system-x86_64", "no-such-accel", 20));
    ck_assert(!accel_guest_runs("/nonexistent/qemu", "tcg", 20));
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
    tcase_add_test(helper, test_accel_probe_guest_runs);
    suite_add_tcase(s, helper);
    return s;
}

UNIT_MAIN(helper_protocol_suite)
