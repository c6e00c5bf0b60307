/* Sessions a worker has resumed recently, so that a run of requests in one
 * session reads the database once per write generation (lib/generation.h)
 * rather than once per request. Only session.c uses it. */
#ifndef VMM_SESSION_CACHE_H
#define VMM_SESSION_CACHE_H

#include "generation.h"
#include "token.h"
#include "user.h"

struct cached_session {
    struct user *user;
    long long created, last_seen;   /* seconds since the epoch */
    char csrf[TOKEN_HEX_LEN + 1];
    struct generation_mark mark;
};

/* The session stored under digest, if its mark is still fresh; else NULL. */
const struct cached_session *session_cache_get(const char *digest);
/* Keeps a copy of user and the rest under digest. */
void session_cache_put(const char *digest, const struct user *user, long long created,
                       long long last_seen, const char *csrf, struct generation_mark mark);
void session_cache_drop(const char *digest);

#endif
