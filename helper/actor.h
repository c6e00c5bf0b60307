/* Who is acting on a helper request. Any process running as the web
 * programs' user can reach the helper's socket, so a request's actor id is
 * only believed with the proof the web program itself was given: the raw
 * session token (the vmm_session cookie) or the raw API token. The helper
 * digests it and checks in the database that it is live and belongs to
 * that actor; the actor's role is read there too. Only the digests are
 * stored, and the web user can read them, so a digest proves nothing.
 *
 * Root peers (admin commands, tests) are trusted to name an actor without
 * a credential: they can read and write the database anyway. Jobs the
 * helper starts run inside it, for the actor of the verified call that
 * started them, and never come through here. */
#ifndef VMM_HELPER_ACTOR_H
#define VMM_HELPER_ACTOR_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "http.h"
#include "user.h"

/* The connected peer, from SO_PEERCRED. */
struct peer {
    uid_t uid;
    pid_t pid;
};

/* The actor of request ({actor, credential}), loaded from the database:
 * NULL with err unset when the request names none; NULL with a 403 (or a
 * 503 when the database is down) in err when it cannot be verified, the
 * refusal logged with the peer. */
struct user *actor_verify(json_t *request, const struct peer *peer, struct err *err);

#endif
