/* A tus chunk written once and hashed on the way (lib/web/stream_write.c) and
 * the digest state kept between chunks (lib/digest_state.c): the digests
 * of a file sent in pieces of odd sizes, saved and loaded between them,
 * are the file's own; a cut body, a full disk and a state that does not
 * fit are told apart. */
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest_state.h"
#include "stream_write.h"
#include "unit.h"

#define SIZE (5 * 1048576 + 12345)

static unsigned char *data;

static void make_data(void)
{
    data = g_malloc(SIZE);
    for (size_t i = 0; i < SIZE; i++)
        data[i] = (unsigned char)(i * 2654435761u >> 13);
}

static void expected_hex(const EVP_MD *md, const unsigned char *bytes, size_t n, char *out)
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(bytes, n, digest, &len, md, NULL);
    for (unsigned i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", digest[i]);
}

/* A body: bytes from data in reads of odd sizes, cut after `cut` bytes. */
struct body {
    size_t at, end, cut;
};

static long body_read(void *ctx, void *buf, size_t n)
{
    struct body *b = ctx;
    if (b->at >= b->cut && b->cut < b->end)
        return -1;
    if (b->at >= b->end)
        return 0;
    size_t want = n < 77777 ? n : 77777;
    if (want > b->end - b->at)
        want = b->end - b->at;
    if (b->cut < b->end && want > b->cut - b->at)
        want = b->cut - b->at;
    memcpy(buf, data + b->at, want);
    b->at += want;
    return (long)want;
}

static int temp_file(void)
{
    char path[] = "/tmp/test_stream_write.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    unlink(path);
    return fd;
}

START_TEST(test_chunks_saved_between)
{
    /* Chunks of odd sizes; the state saved as text and loaded again
     * between each, as PATCHes in separate processes do. */
    const size_t cuts[] = { 0, 1, 4097, 1048577, 3000001, SIZE };
    int fd = temp_file();
    char *saved = NULL;
    for (size_t i = 0; i + 1 < G_N_ELEMENTS(cuts); i++) {
        struct digest_state *d = i == 0 ? digest_state_new() : digest_state_load(saved, (long long)cuts[i]);
        ck_assert_ptr_nonnull(d);
        g_free(saved);
        struct body b = { cuts[i], cuts[i + 1], SIZE };
        struct stream_write w = { .fd = fd, .offset = (long long)cuts[i], .digests = d };
        ck_assert_int_eq(stream_write_run(&w, body_read, &b), STREAM_DONE);
        ck_assert_int_eq(w.written, (long long)(cuts[i + 1] - cuts[i]));
        ck_assert_int_eq(digest_state_bytes(d), (long long)cuts[i + 1]);
        saved = digest_state_save(d);
        digest_state_free(d);
    }
    /* The file holds the bytes; the state's digests are the file's. */
    unsigned char *back = g_malloc(SIZE);
    ck_assert_int_eq(pread(fd, back, SIZE, 0), SIZE);
    ck_assert_int_eq(memcmp(back, data, SIZE), 0);
    g_free(back);
    struct digest_state *d = digest_state_load(saved, SIZE);
    ck_assert_ptr_nonnull(d);
    char md5[33], sha256[65], want_md5[33], want_sha256[65];
    digest_state_final(d, md5, sha256);
    digest_state_free(d);
    expected_hex(EVP_md5(), data, SIZE, want_md5);
    expected_hex(EVP_sha256(), data, SIZE, want_sha256);
    ck_assert_str_eq(md5, want_md5);
    ck_assert_str_eq(sha256, want_sha256);
    /* Rebuilt from the file: the same. */
    d = digest_state_rebuild(fd, SIZE);
    digest_state_final(d, md5, sha256);
    digest_state_free(d);
    ck_assert_str_eq(md5, want_md5);
    ck_assert_str_eq(sha256, want_sha256);
    g_free(saved);
    close(fd);
}
END_TEST

START_TEST(test_state_refused)
{
    struct digest_state *d = digest_state_new();
    digest_state_update(d, data, 1000);
    char *saved = digest_state_save(d);
    digest_state_free(d);
    ck_assert_ptr_null(digest_state_load(saved, 999));   /* another count */
    ck_assert_ptr_null(digest_state_load("", 0));
    ck_assert_ptr_null(digest_state_load(NULL, 0));
    ck_assert_ptr_null(digest_state_load("bm90IGEgc3RhdGU=", 1000));   /* "not a state" */
    d = digest_state_load(saved, 1000);
    ck_assert_ptr_nonnull(d);
    digest_state_free(d);
    g_free(saved);
    /* Only MD5 fed: the two digests disagree on the count. */
    d = digest_state_new();
    digest_state_update_md5(d, data, 10);
    ck_assert_int_eq(digest_state_bytes(d), -1);
    digest_state_free(d);
}
END_TEST

START_TEST(test_cut_and_checksum)
{
    int fd = temp_file();
    struct digest_state *d = digest_state_new();
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha1(), NULL);
    struct body b = { 0, SIZE, 2 * 1048576 + 3 };   /* the client leaves */
    struct stream_write w = { .fd = fd, .offset = 0, .digests = d, .chunk_md = md };
    ck_assert_int_eq(stream_write_run(&w, body_read, &b), STREAM_CUT);
    /* What arrived is written and hashed, no more, no less. */
    ck_assert_int_eq(w.written, 2 * 1048576 + 3);
    ck_assert_int_eq(digest_state_bytes(d), w.written);
    ck_assert_int_eq(lseek(fd, 0, SEEK_END), w.written);
    unsigned char got[EVP_MAX_MD_SIZE], want[EVP_MAX_MD_SIZE];
    unsigned n = 0, m = 0;
    EVP_DigestFinal_ex(md, got, &n);
    EVP_Digest(data, (size_t)w.written, want, &m, EVP_sha1(), NULL);
    ck_assert_int_eq(n, m);
    ck_assert_int_eq(memcmp(got, want, n), 0);
    EVP_MD_CTX_free(md);
    digest_state_free(d);
    close(fd);
}
END_TEST

START_TEST(test_disk_full)
{
    int fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    struct digest_state *d = digest_state_new();
    struct body b = { 0, SIZE, SIZE };
    struct stream_write w = { .fd = fd, .offset = 0, .digests = d };
    ck_assert_int_eq(stream_write_run(&w, body_read, &b), STREAM_IO);
    ck_assert_int_eq(w.error, ENOSPC);
    ck_assert_int_eq(w.written, 0);
    digest_state_free(d);
    close(fd);
}
END_TEST

START_TEST(test_no_digests)
{
    /* A template: no whole-file digests, the bytes only. */
    int fd = temp_file();
    struct body b = { 0, SIZE, SIZE };
    struct stream_write w = { .fd = fd, .offset = 7 };
    ck_assert_int_eq(stream_write_run(&w, body_read, &b), STREAM_DONE);
    ck_assert_int_eq(w.written, SIZE);
    ck_assert_int_eq(lseek(fd, 0, SEEK_END), SIZE + 7);
    close(fd);
}
END_TEST

static Suite *stream_write_suite(void)
{
    make_data();
    Suite *s = suite_create("stream_write");
    TCase *tc = tcase_create("chunks");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_chunks_saved_between);
    tcase_add_test(tc, test_state_refused);
    tcase_add_test(tc, test_cut_and_checksum);
    tcase_add_test(tc, test_disk_full);
    tcase_add_test(tc, test_no_digests);
    suite_add_tcase(s, tc);
    return s;
}

UNIT_MAIN(stream_write_suite)
