/* Login sessions: a 256-bit random token in the vmm_session cookie, only
 * its SHA-256 stored; ended by logout, by idle time, or by age. Each
 * session has its own CSRF token. */
#ifndef VMM_SESSION_H
#define VMM_SESSION_H

#include <stdbool.h>

#include "http.h"
#include "user.h"

#define SESSION_COOKIE "vmm_session"

/* Starts a session for user: stores it, sets the cookie, and fills
 * r->user (a copy) and r->csrf_token. 0 or -1. */
int session_start(struct req *r, const struct user *user);
/* Resumes the session named by the cookie, if any and still valid.
 * 0 (r->user set or not), -1 when the database fails. */
int session_resume(struct req *r);
/* Ends the current session and clears the cookie. */
int session_end(struct req *r);
/* Ends every session of a user (disabled, password changed). */
int session_end_all(long long user_id);

/* Whether a session created at `created` and last used at `last_seen`
 * (seconds) has expired at `now`. */
bool session_expired(long long created, long long last_seen, long long now,
                     long long idle_timeout, long long absolute_timeout);
/* The same with the configured timeouts (the helper checks sessions too). */
bool session_timed_out(long long created, long long last_seen, long long now);

#endif
