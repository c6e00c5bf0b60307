/* The helper's protocol: framing edge cases over a socketpair, then the
 * real vmm-helper on libvirt's test:///default driver. */
#include <arpa/inet.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>
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

/* One limit per direction: a reply as large as the statistics of 1000 VMs
 * passes; a request that large is not even sent. Each VM gets the groups
 * virConnectGetAllDomainStats reports (state, cpu, balloon, 4 vCPUs, 2
 * NICs, 2 disks), about 1.5 KiB of JSON. */
static json_t *stats_of_1000_vms(void)
{
    static const char *const net_fields[] = { "rx.bytes", "rx.pkts", "rx.errs", "rx.drop",
                                              "tx.bytes", "tx.pkts", "tx.errs", "tx.drop" };
    static const char *const block_fields[] = { "rd.reqs", "rd.bytes", "rd.times", "wr.reqs",
                                                "wr.bytes", "wr.times", "fl.reqs", "fl.times",
                                                "allocation", "capacity", "physical", "errors" };
    json_t *vms = json_array();
    for (int i = 1; i <= 1000; i++) {
        json_t *vm = json_pack("{s:i, s:i, s:i, s:I, s:I, s:I, s:I}", "vm_id", i, "state.state", 1,
                               "state.reason", 1, "cpu.time", (json_int_t)123456789012,
                               "cpu.user", (json_int_t)23456789012, "balloon.current",
                               (json_int_t)4194304, "balloon.rss", (json_int_t)2097152);
        char name[40];
        for (int c = 0; c < 4; c++) {
            snprintf(name, sizeof name, "vcpu.%d.state", c);
            json_object_set_new(vm, name, json_integer(1));
            snprintf(name, sizeof name, "vcpu.%d.time", c);
            json_object_set_new(vm, name, json_integer(30864197253));
        }
        for (int n = 0; n < 2; n++)
            for (size_t f = 0; f < G_N_ELEMENTS(net_fields); f++) {
                snprintf(name, sizeof name, "net.%d.%s", n, net_fields[f]);
                json_object_set_new(vm, name, json_integer(5555555555));
            }
        for (int d = 0; d < 2; d++)
            for (size_t f = 0; f < G_N_ELEMENTS(block_fields); f++) {
                snprintf(name, sizeof name, "block.%d.%s", d, block_fields[f]);
                json_object_set_new(vm, name, json_integer(21474836480));
            }
        json_array_append_new(vms, vm);
    }
    return json_pack("{s:b, s:{s:o}}", "ok", 1, "data", "vms", vms);
}

struct reader {
    int fd;
    size_t max;
    json_t *got;
    int rc;
};

static void *read_frame(void *arg)
{
    struct reader *r = arg;
    r->rc = frame_read(r->fd, r->max, &r->got);
    return NULL;
}

START_TEST(test_frame_limits_per_direction)
{
    ck_assert_int_lt(FRAME_REQUEST_MAX_BYTES, FRAME_REPLY_MAX_BYTES);
    ck_assert_int_eq(FRAME_MAX_BYTES, FRAME_REPLY_MAX_BYTES);
    json_t *stats = stats_of_1000_vms();
    char *text = json_dumps(stats, JSON_COMPACT);
    size_t len = strlen(text);
    free(text);
    ck_assert_msg(len > 1024 * 1024 && len < FRAME_REPLY_MAX_BYTES / 4,
                  "1000 VMs' stats are %zu bytes", len);

    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    /* As a request it is refused before a byte is written. */
    ck_assert_int_eq(frame_write_max(sv[0], stats, FRAME_REQUEST_MAX_BYTES), FRAME_TOO_LARGE);
    char byte;
    ck_assert_int_eq(recv(sv[1], &byte, 1, MSG_DONTWAIT), -1);
    ck_assert_int_eq(errno, EAGAIN);

    /* As a reply it goes through, read with the client's limit. */
    struct reader reader = { .fd = sv[1], .max = FRAME_REPLY_MAX_BYTES };
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, read_frame, &reader), 0);
    ck_assert_int_eq(frame_write_max(sv[0], stats, FRAME_REPLY_MAX_BYTES), FRAME_OK);
    pthread_join(thread, NULL);
    ck_assert_int_eq(reader.rc, FRAME_OK);
    ck_assert(json_equal(reader.got, stats));
    json_decref(reader.got);

    /* And a frame over the reply limit is not written either. */
    char *filler = g_strnfill(FRAME_REPLY_MAX_BYTES, 'a');
    json_t *huge = json_pack("{s:s%}", "x", filler, (size_t)FRAME_REPLY_MAX_BYTES);
    g_free(filler);   /* json_pack copied it */
    ck_assert_int_eq(frame_write(sv[0], huge), FRAME_TOO_LARGE);
    ck_assert_int_eq(recv(sv[1], &byte, 1, MSG_DONTWAIT), -1);
    json_decref(huge);
    json_decref(stats);
    close(sv[0]);
    close(sv[1]);
}
END_TEST

static long long elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - since->tv_sec) * 1000 + (now.tv_nsec - since->tv_nsec) / 1000000;
}

/* Writes a 30-byte frame a byte at a time until the reader hangs up. */
static void *trickle(void *arg)
{
    int fd = *(int *)arg;
    char frame[34] = { 0, 0, 0, 30 };
    memset(frame + 4, ' ', 30);
    struct timespec pause = { 0, 50 * 1000 * 1000 };
    for (size_t i = 0; i < sizeof frame && send(fd, frame + i, 1, MSG_NOSIGNAL) == 1; i++)
        nanosleep(&pause, NULL);
    return NULL;
}

/* Half a frame, or a frame that trickles in, ends at the deadline. */
START_TEST(test_frame_read_deadline)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    uint32_t header = htonl(10);
    ck_assert_int_eq(write(sv[0], &header, 2), 2);
    json_t *in = NULL;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    ck_assert_int_eq(frame_read_within(sv[1], 1024, &in, 200), FRAME_TIMEOUT);
    long long took = elapsed_ms(&start);
    ck_assert_msg(took >= 190 && took < 2000, "took %lld ms", took);
    ck_assert_ptr_null(in);

    close(sv[0]);
    close(sv[1]);

    /* A whole header and half the body: the same. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    ck_assert_int_eq(write(sv[0], &header, 4), 4);
    ck_assert_int_eq(write(sv[0], "{\"a\":", 5), 5);
    ck_assert_int_eq(frame_read_within(sv[1], 1024, &in, 100), FRAME_TIMEOUT);
    ck_assert_ptr_null(in);
    close(sv[0]);
    close(sv[1]);

    /* A frame that trickles in, a byte every 50 ms, each byte well inside
     * any per-read timeout: the one deadline still ends it. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, trickle, &sv[0]), 0);
    clock_gettime(CLOCK_MONOTONIC, &start);
    ck_assert_int_eq(frame_read_within(sv[1], 1024, &in, 300), FRAME_TIMEOUT);
    took = elapsed_ms(&start);
    ck_assert_msg(took >= 290 && took < 2000, "took %lld ms", took);
    close(sv[1]);
    pthread_join(thread, NULL);
    close(sv[0]);

    /* A whole frame within the deadline reads as usual. */
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    json_t *out = json_pack("{s:s}", "op", "ping");
    ck_assert_int_eq(frame_write(sv[0], out), FRAME_OK);
    ck_assert_int_eq(frame_read_within(sv[1], 1024, &in, 1000), FRAME_OK);
    ck_assert(json_equal(in, out));
    json_decref(in);
    json_decref(out);
    close(sv[0]);
    ck_assert_int_eq(frame_read_within(sv[1], 1024, &in, 1000), FRAME_EOF);
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
    chmod(dir, 0755);   /* the unprivileged client below reaches the socket */
    g_free(dir);
    helper_pid = fork();
    if (helper_pid == 0) {
        setenv("VMM_HELPER_SOCKET", socket_path, 1);
        setenv("VMM_HELPER_LIBVIRT_URI", "test:///default", 1);
        setenv("VMM_HELPER_ACCEL", "qemu", 1);
        /* Its clients: root (this test, trusted) and nobody (a web user). */
        setenv("VMM_HELPER_CLIENT_USER", "nobody", 1);
        setenv("VMM_HELPER_CLIENT_IDLE_TIMEOUT_S", "1", 1);
        setenv("VMM_CONFIG", "", 1); /* no file: defaults and overrides only */
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
    uint32_t header = htonl(FRAME_REQUEST_MAX_BYTES + 1);
    ck_assert_int_eq(write(fd, &header, 4), 4);
    ck_assert_int_eq(frame_read(fd, 1 << 20, &reply), FRAME_OK);
    ck_assert_str_eq(error_code(reply), "request_too_large");
    json_decref(reply);
    ck_assert_int_eq(frame_read(fd, 1 << 20, &reply), FRAME_EOF);
    close(fd);
}
END_TEST

/* Whether fd is closed by the peer within ms. */
static bool closed_within(int fd, int ms)
{
    struct pollfd p = { .fd = fd, .events = POLLIN };
    char buf[64];
    return poll(&p, 1, ms) == 1 && read(fd, buf, sizeof buf) == 0;
}

/* A client that sends nothing, or half a frame, is dropped after the idle
 * timeout (1 s here), and meanwhile others are served at once. */
START_TEST(test_helper_drops_idle_clients)
{
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int silent = connect_helper();
    int half = connect_helper();
    ck_assert_int_ge(silent, 0);
    ck_assert_int_ge(half, 0);
    uint32_t header = htonl(100);
    ck_assert_int_eq(write(half, &header, 3), 3);

    int busy = connect_helper();
    json_t *reply = call(busy, "{\"op\":\"ping\"}");
    ck_assert(json_is_true(json_object_get(reply, "ok")));
    json_decref(reply);
    ck_assert_int_lt(elapsed_ms(&start), 900);
    close(busy);

    ck_assert(closed_within(silent, 5000));
    ck_assert(closed_within(half, 5000));
    ck_assert_int_ge(elapsed_ms(&start), 900);
    close(silent);
    close(half);
}
END_TEST

/* A web user's process (nobody here) that names an actor without the
 * session or API token proving it is refused; so is a made-up proof
 * (there is no database here: it cannot be checked, so 503). Exit code
 * of the child: 0 when every answer was right. */
static int forged_actor_child(void)
{
    struct passwd *pw = getpwnam("nobody");
    if (!pw || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0)
        return 10;
    static const struct {
        const char *request;
        int status;
        const char *code;
    } cases[] = {
        { "{\"op\":\"vm.start\",\"args\":{\"vm_id\":1},\"actor\":1}", 403, "forbidden" },
        { "{\"op\":\"host.reconcile\",\"actor\":1,\"credential\":null}", 403, "forbidden" },
        { "{\"op\":\"vm.start\",\"args\":{\"vm_id\":1},\"actor\":1,"
          "\"credential\":{\"session\":\"not a token\"}}", 403, "forbidden" },
        { "{\"op\":\"vm.start\",\"args\":{\"vm_id\":1},\"actor\":\"1\","
          "\"credential\":{\"session\":\"" "0123456789abcdef0123456789abcdef"
          "0123456789abcdef0123456789abcdef\"}}", 403, "forbidden" },
        { "{\"op\":\"vm.start\",\"args\":{\"vm_id\":1},\"actor\":1,"
          "\"credential\":{\"session\":\"" "0123456789abcdef0123456789abcdef"
          "0123456789abcdef0123456789abcdef\"}}", 503, "database_unavailable" },
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        int fd = connect_helper();
        if (fd < 0)
            return 20;
        json_t *request = json_loads(cases[i].request, 0, NULL), *reply = NULL;
        if (!request || frame_write(fd, request) != FRAME_OK ||
            frame_read(fd, FRAME_REPLY_MAX_BYTES, &reply) != FRAME_OK)
            return 30 + (int)i;
        json_t *error = json_object_get(reply, "error");
        if (json_integer_value(json_object_get(error, "status")) != cases[i].status ||
            g_strcmp0(json_string_value(json_object_get(error, "code")), cases[i].code))
            return 40 + (int)i;
        json_decref(request);
        json_decref(reply);
        close(fd);
    }
    return 0;
}

START_TEST(test_helper_refuses_forged_actor)
{
    pid_t child = fork();
    if (child == 0)
        _exit(forged_actor_child());
    int status = 0;
    ck_assert_int_eq(waitpid(child, &status, 0), child);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child: %d",
                  WEXITSTATUS(status));
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
    tcase_add_test(frames, test_frame_limits_per_direction);
    tcase_add_test(frames, test_frame_read_deadline);
    suite_add_tcase(s, frames);
    TCase *helper = tcase_create("helper");
    tcase_add_checked_fixture(helper, start_helper, stop_helper);
    tcase_set_timeout(helper, 30);
    tcase_add_test(helper, test_helper_answers);
    tcase_add_test(helper, test_helper_drops_idle_clients);
    tcase_add_test(helper, test_helper_refuses_forged_actor);
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
