#include "stream_write.h"

#include <errno.h>
#include <glib.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define BLOCK (1 << 20)
#define NBLOCKS 4   /* 4 MiB while a PATCH runs: a worker stays small */

/* A ring of blocks: the writer fills block k % NBLOCKS once both hashers
 * are past block k - NBLOCKS. */
struct ring {
    pthread_mutex_t lock;
    pthread_cond_t changed;
    unsigned char *buf[NBLOCKS];
    size_t len[NBLOCKS];
    long long produced;       /* blocks written */
    long long hashed[2];      /* blocks each hasher is done with */
    bool finished;
    struct digest_state *digests;
};

struct hasher {
    struct ring *ring;
    int which;                /* 0 MD5, 1 SHA-256 */
};

static void *hash_thread(void *arg)
{
    struct hasher *h = arg;
    struct ring *g = h->ring;
    for (long long k = 0;; k++) {
        pthread_mutex_lock(&g->lock);
        while (g->produced <= k && !g->finished)
            pthread_cond_wait(&g->changed, &g->lock);
        bool have = g->produced > k;
        pthread_mutex_unlock(&g->lock);
        if (!have)
            return NULL;
        int slot = (int)(k % NBLOCKS);
        if (h->which == 0)
            digest_state_update_md5(g->digests, g->buf[slot], g->len[slot]);
        else
            digest_state_update_sha256(g->digests, g->buf[slot], g->len[slot]);
        pthread_mutex_lock(&g->lock);
        g->hashed[h->which] = k + 1;
        pthread_cond_broadcast(&g->changed);
        pthread_mutex_unlock(&g->lock);
    }
}

/* Fills buf as far as the body goes: bytes read, and *end once it ended
 * (*cut if early). */
static size_t fill(stream_read_fn read, void *ctx, unsigned char *buf, bool *end, bool *cut)
{
    size_t got = 0;
    while (got < BLOCK) {
        long n = read(ctx, buf + got, BLOCK - got);
        if (n <= 0) {
            *end = true;
            *cut = n < 0;
            break;
        }
        got += (size_t)n;
    }
    return got;
}

static int write_all(int fd, const unsigned char *buf, size_t len, long long at)
{
    while (len > 0) {
        ssize_t n = pwrite(fd, buf, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        buf += n;
        len -= (size_t)n;
        at += n;
    }
    return 0;
}

enum stream_result stream_write_run(struct stream_write *w, stream_read_fn read, void *ctx)
{
    struct ring g = { .lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER,
                      .digests = w->digests };
    struct hasher hashers[2] = { { &g, 0 }, { &g, 1 } };
    pthread_t threads[2];
    int nthreads = 0;
    int nbufs = w->digests ? NBLOCKS : 1;
    /* mmap, not malloc: the blocks go back to the system after the PATCH
     * (malloc's growing mmap threshold would keep them in the heap). */
    unsigned char *ring = mmap(NULL, (size_t)nbufs * BLOCK, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (ring == MAP_FAILED) {
        w->error = ENOMEM;
        return STREAM_IO;
    }
    for (int i = 0; i < nbufs; i++)
        g.buf[i] = ring + (size_t)i * BLOCK;
    for (; w->digests && nthreads < 2; nthreads++)
        if (pthread_create(&threads[nthreads], NULL, hash_thread, &hashers[nthreads]) != 0)
            break;
    /* Without its threads the digests are computed here, one block at a time. */
    bool inline_hash = w->digests && nthreads < 2;
    if (inline_hash) {
        pthread_mutex_lock(&g.lock);
        g.finished = true;
        pthread_cond_broadcast(&g.changed);
        pthread_mutex_unlock(&g.lock);
    }

    enum stream_result result = STREAM_DONE;
    bool end = false, cut = false;
    w->written = 0;
    w->error = 0;
    for (long long k = 0; !end; k++) {
        int slot = (int)(k % nbufs);
        if (w->digests && !inline_hash) {
            pthread_mutex_lock(&g.lock);
            while (g.hashed[0] <= k - nbufs || g.hashed[1] <= k - nbufs)
                pthread_cond_wait(&g.changed, &g.lock);
            pthread_mutex_unlock(&g.lock);
        }
        size_t len = fill(read, ctx, g.buf[slot], &end, &cut);
        if (cut)
            result = STREAM_CUT;
        if (len == 0)
            break;
        if ((w->error = write_all(w->fd, g.buf[slot], len, w->offset + w->written)) != 0) {
            result = STREAM_IO;
            break;
        }
        w->written += (long long)len;
        if (w->chunk_md)
            EVP_DigestUpdate(w->chunk_md, g.buf[slot], len);
        if (inline_hash) {
            digest_state_update(w->digests, g.buf[slot], len);
            continue;
        }
        if (w->digests) {
            pthread_mutex_lock(&g.lock);
            g.len[slot] = len;
            g.produced = k + 1;
            pthread_cond_broadcast(&g.changed);
            pthread_mutex_unlock(&g.lock);
        }
    }
    pthread_mutex_lock(&g.lock);
    g.finished = true;
    pthread_cond_broadcast(&g.changed);
    pthread_mutex_unlock(&g.lock);
    for (int i = 0; i < nthreads; i++)
        pthread_join(threads[i], NULL);
    munmap(ring, (size_t)nbufs * BLOCK);
    return result;
}
