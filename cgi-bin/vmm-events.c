/* vmm-events: live updates for pages. GET /events is a Server-Sent
 * Events stream (through nginx, unbuffered) that says "changed" whenever
 * the database's write generation (lib/generation.h) moves, naming it; the page then
 * fetches itself again, answered 304 when nothing it shows changed
 * (static/js/live.js). An idle page costs a comment line every
 * [events] ping_s.
 *
 * A stream holds its connection for long, so this program serves each
 * from a thread of its own ([events] threads per worker) rather than one
 * request at a time as the other programs do. It says nothing about what
 * changed, so anyone logged in may listen; a logged-out visitor gets 401,
 * and a stream ends when its session does. */
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "generation.h"
#include "http.h"
#include "log.h"
#include "session.h"
#include "user.h"

#define CHECK_MS 200             /* how often the generation is looked at */

static pthread_mutex_t accept_lock = PTHREAD_MUTEX_INITIALIZER;
/* lib/session.c's cache is one per process, made for one thread. */
static pthread_mutex_t session_lock = PTHREAD_MUTEX_INITIALIZER;
static long ping_ms, recheck_ms;

static bool still_logged_in(struct req *r)
{
    pthread_mutex_lock(&session_lock);
    user_free(r->user);
    r->user = NULL;
    int rc = session_resume(r);
    bool in = rc == 0 && r->user;
    pthread_mutex_unlock(&session_lock);
    /* A stream lasts minutes and asks the database once a recheck: holding
     * a connection per thread between (32 a worker) would use up the
     * server's connections for nothing. */
    db_close();
    return in;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void reply_status(FCGX_Request *fr, const char *status)
{
    FCGX_FPrintF(fr->out, "Status: %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                          "Cache-Control: no-store\r\nContent-Length: 0\r\n\r\n", status);
}

/* Streams until the client goes (a write fails), the session ends, or
 * the stream is [events] max_s old (the browser reconnects). */
static void stream(FCGX_Request *fr, struct req *r)
{
    FCGX_FPrintF(fr->out, "Status: 200 OK\r\nContent-Type: text/event-stream\r\n"
                          "Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n\r\n"
                          "retry: 2000\n\n");
    /* The generation now, then each new one: a page rendered at an older
     * one (its data-generation) fetches itself. */
    uint64_t seen = generation_mark().generation;
    FCGX_FPrintF(fr->out, "data: %llu\n\n", (unsigned long long)seen);
    if (FCGX_FFlush(fr->out) < 0)
        return;
    long since_ping = 0, since_check = 0, age = 0;
    long max_ms = config_int("events", "max_s", 600) * 1000L;
    while (age < max_ms) {
        sleep_ms(CHECK_MS);
        since_ping += CHECK_MS;
        since_check += CHECK_MS;
        age += CHECK_MS;
        uint64_t now = generation_mark().generation;
        if (now != seen) {
            seen = now;
            FCGX_FPrintF(fr->out, "data: %llu\n\n", (unsigned long long)now);
            since_ping = 0;
        } else if (since_ping >= ping_ms) {
            FCGX_FPrintF(fr->out, ":\n\n");
            since_ping = 0;
        } else {
            continue;
        }
        if (FCGX_FFlush(fr->out) < 0 || FCGX_GetError(fr->out))
            return;
        if (since_check >= recheck_ms) {
            since_check = 0;
            if (!still_logged_in(r))
                return;
        }
    }
}

static void serve(FCGX_Request *fr, struct req *r)
{
    req_reset(r);
    if (req_parse_env(r, fr->envp) < 0 || strcmp(r->method, "GET")) {
        reply_status(fr, strcmp(r->method ? r->method : "", "GET") ? "405 Method Not Allowed"
                                                                    : "400 Bad Request");
        return;
    }
    /* Listening is not activity: the session may still time out. */
    r->background = true;
    if (!still_logged_in(r)) {
        reply_status(fr, "401 Unauthorized");
        return;
    }
    const char *accept = req_env(r, "HTTP_ACCEPT");
    if (!accept || !strstr(accept, "text/event-stream")) {
        reply_status(fr, "406 Not Acceptable");
        return;
    }
    if (!generation_mark().generation) {
        /* No write counter (lib/generation.h): nothing to follow. 204
         * tells EventSource not to come back. */
        reply_status(fr, "204 No Content");
        return;
    }
    stream(fr, r);
}

static void *worker(void *arg)
{
    (void)arg;
    FCGX_Request fr;
    struct req r;
    FCGX_InitRequest(&fr, 0, 0);
    req_init(&r);
    for (;;) {
        pthread_mutex_lock(&accept_lock);
        int rc = FCGX_Accept_r(&fr);
        pthread_mutex_unlock(&accept_lock);
        if (rc < 0)
            break;
        serve(&fr, &r);
        FCGX_Finish_r(&fr);
    }
    req_reset(&r);
    db_close();
    return NULL;
}

int main(int argc, char **argv)
{
    (void)argc;
    /* Its one route, for the authorization matrix (lib/web/app.h). */
    const char *list = getenv("VMM_LIST_ROUTES");
    if (list && !strcmp(list, "1")) {
        puts("{\"method\":\"GET\",\"pattern\":\"/events\",\"perm\":\"user\",\"kind\":\"page\"}");
        return 0;
    }
    log_init(argv[0]);
    if (config_load() < 0)
        return 1;
    if (FCGX_Init() != 0)
        return 1;
    /* libfcgi's SIGTERM handler only marks a shutdown that a thread
     * blocked in accept never sees: the worker would outlive every stop
     * by its timeout. Its streams end with it; browsers reconnect. */
    signal(SIGTERM, SIG_DFL);
    long threads = config_int("events", "threads", 32);
    ping_ms = config_int("events", "ping_s", 25) * 1000L;
    recheck_ms = config_int("events", "session_check_s", 30) * 1000L;
    if (threads < 1 || threads > 1024 || ping_ms < 1000 || recheck_ms < 1000) {
        log_error("[events] threads must be 1-1024, ping_s and session_check_s at least 1");
        return 1;
    }
    pthread_t *ids = g_new0(pthread_t, threads);
    for (long i = 0; i < threads; i++)
        if (pthread_create(&ids[i], NULL, worker, NULL) != 0) {
            log_error("cannot start thread %ld", i);
            return 1;
        }
    for (long i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    g_free(ids);
    return 0;
}
