/* OpenSSL 3 deprecates the low-level digest structs we keep on purpose
 * (see digest_state.h): only this file uses them. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "digest_state.h"

#include <errno.h>
#include <glib.h>
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define MAGIC "VMD1"

struct digest_state {
    MD5_CTX md5;
    SHA256_CTX sha256;
};

/* What digest_state_save writes, then base64. */
struct saved {
    char magic[4];
    uint32_t md5_size, sha256_size;
    int64_t bytes;
    MD5_CTX md5;
    SHA256_CTX sha256;
};

struct digest_state *digest_state_new(void)
{
    struct digest_state *s = g_new0(struct digest_state, 1);
    MD5_Init(&s->md5);
    SHA256_Init(&s->sha256);
    return s;
}

void digest_state_free(struct digest_state *s)
{
    g_free(s);
}

void digest_state_update_md5(struct digest_state *s, const void *data, size_t n)
{
    MD5_Update(&s->md5, data, n);
}

void digest_state_update_sha256(struct digest_state *s, const void *data, size_t n)
{
    SHA256_Update(&s->sha256, data, n);
}

void digest_state_update(struct digest_state *s, const void *data, size_t n)
{
    MD5_Update(&s->md5, data, n);
    SHA256_Update(&s->sha256, data, n);
}

/* Both structs count bits in two 32-bit halves. */
static long long bits_to_bytes(unsigned long lo, unsigned long hi)
{
    return (long long)((((uint64_t)(hi & 0xffffffffu)) << 32 | (lo & 0xffffffffu)) >> 3);
}

long long digest_state_bytes(const struct digest_state *s)
{
    long long m = bits_to_bytes(s->md5.Nl, s->md5.Nh);
    long long h = bits_to_bytes(s->sha256.Nl, s->sha256.Nh);
    return m == h ? m : -1;
}

char *digest_state_save(const struct digest_state *s)
{
    struct saved out;
    memset(&out, 0, sizeof out);
    memcpy(out.magic, MAGIC, 4);
    out.md5_size = sizeof(MD5_CTX);
    out.sha256_size = sizeof(SHA256_CTX);
    out.bytes = digest_state_bytes(s);
    out.md5 = s->md5;
    out.sha256 = s->sha256;
    return g_base64_encode((const guchar *)&out, sizeof out);
}

struct digest_state *digest_state_load(const char *text, long long bytes)
{
    if (!text || !*text)
        return NULL;
    gsize len = 0;
    guchar *raw = g_base64_decode(text, &len);
    struct saved in;
    bool ok = raw && len == sizeof in;
    if (ok)
        memcpy(&in, raw, sizeof in);
    g_free(raw);
    if (!ok || memcmp(in.magic, MAGIC, 4) || in.md5_size != sizeof(MD5_CTX) ||
        in.sha256_size != sizeof(SHA256_CTX) || in.bytes != bytes)
        return NULL;
    struct digest_state *s = g_new0(struct digest_state, 1);
    s->md5 = in.md5;
    s->sha256 = in.sha256;
    if (digest_state_bytes(s) != bytes) {
        g_free(s);
        return NULL;
    }
    return s;
}

struct digest_state *digest_state_rebuild(int fd, long long bytes)
{
    enum { BLOCK = 4 << 20 };
    struct digest_state *s = digest_state_new();
    unsigned char *buf = g_malloc(BLOCK);
    long long at = 0;
    while (at < bytes) {
        size_t want = bytes - at < BLOCK ? (size_t)(bytes - at) : BLOCK;
        ssize_t n = pread(fd, buf, want, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            digest_state_free(s);
            s = NULL;
            break;
        }
        digest_state_update(s, buf, (size_t)n);
        at += n;
    }
    g_free(buf);
    return s;
}

static void hex(const unsigned char *bytes, unsigned n, char *out)
{
    for (unsigned i = 0; i < n; i++)
        sprintf(out + 2 * i, "%02x", bytes[i]);
}

void digest_state_final(struct digest_state *s, char md5[33], char sha256[65])
{
    unsigned char digest[SHA256_DIGEST_LENGTH];
    MD5_Final(digest, &s->md5);
    hex(digest, MD5_DIGEST_LENGTH, md5);
    SHA256_Final(digest, &s->sha256);
    hex(digest, SHA256_DIGEST_LENGTH, sha256);
}
