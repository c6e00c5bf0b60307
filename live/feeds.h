/* The topics of vmm-live's sockets: what a client may subscribe to, what
 * it is sent, and when. The socket side (authentication, frames, the
 * queue of messages) is vmm-live.c.
 *
 * Client -> server: {"type": "subscribe"|"unsubscribe", "data": {"topic":
 * "vm-metrics", "vmId": 12, "interval": 5000}} or {"topic":
 * "job-progress", "jobId": 7}; {"type": "ping"}.
 * Server -> client: {"type": "subscribed"|"unsubscribed", data}, {"type":
 * "vm-metrics", "data": {"vmId", "timestamp", "metrics": {cpu: {usage},
 * memory: {usage, usedMb, totalMb}, disk: {read, write}, network: {rx,
 * tx}}}}, {"type": "job-progress", "data": {"jobId", "vmId", "kind",
 * "state", "progress", "message"}}, {"type": "pong"}, {"type": "error",
 * "data": {"code", "message", "topic"?, "vmId"?, "jobId"?}}. */
#ifndef VMM_LIVE_FEEDS_H
#define VMM_LIVE_FEEDS_H

#include <glib.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct lws;
struct user;

struct live_conn {
    struct lws *wsi;
    bool by_token;          /* credential is an API token, else a session cookie's value */
    char *credential;
    struct user *user;
    GPtrArray *subs;        /* struct live_sub *, owned */
    GQueue *out;            /* JSON texts waiting for the socket to be writable */
    GString *in;            /* a message arriving in fragments */
    int64_t idle_since_ms;  /* when it last had no subscription */
    int64_t next_auth_check_ms;
    int close_code;         /* != 0: close at the next write */
    char close_reason[64];
};

struct live_conn *live_conn_new(void);
void live_conn_free(struct live_conn *c);

/* From vmm-live.c: queue message (taken) on c; close c. */
void live_send(struct live_conn *c, json_t *message);
void live_close(struct live_conn *c, int code, const char *reason);
int64_t live_now_ms(void);

/* A whole text message from c. */
void live_feeds_message(struct live_conn *c, const char *text, size_t len);
/* Once per tick before the connections' live_feeds_tick. */
void live_feeds_tick_begin(void);
/* Sends c what is due at now. */
void live_feeds_tick(struct live_conn *c, int64_t now);

#endif
