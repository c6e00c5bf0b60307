/* Personal API tokens for automation: "vmm_" and 64 hex characters, sent
 * as "Authorization: Bearer <token>". Only the SHA-256 is stored; the
 * token is shown once. A bearer request needs no CSRF token (a browser
 * never adds the header by itself). */
#ifndef VMM_API_TOKEN_H
#define VMM_API_TOKEN_H

#include <stdbool.h>

#include "http.h"
#include "token.h"


/* Whether the request carries an Authorization header at all. */
bool api_token_present(const struct req *r);
/* Authenticates r from its bearer token: 0 with r->user and
 * r->api_token_id set, or -1 with a 401 (unknown, revoked or malformed
 * token, disabled user) or a 503 in r->err. */
int api_token_resume(struct req *r);
/* The bearer token r was authenticated with, or NULL: passed to the
 * helper as the proof of who is acting. */
const char *api_token_of(const struct req *r);
/* Makes a token for user_id named name: its id, and the token in out. */
int api_token_create(long long user_id, const char *name, char out[API_TOKEN_LEN + 1],
                     long long *id);

#endif
