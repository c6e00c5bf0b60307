/* Whole answers of the GET routes marked `cached` (lists), kept by a worker
 * while the write generation stays (lib/generation.h): a list read a
 * thousand times between two writes is queried and rendered once.
 *
 * The key is everything the answer depends on besides the database: the
 * path and query, API or page, the language, the user, and for pages the
 * session's CSRF token, which the page's forms carry. */
#ifndef VMM_RESP_CACHE_H
#define VMM_RESP_CACHE_H

#include <stdbool.h>

#include "generation.h"
#include "http.h"

/* Answers r from the cache: true when it did (status, type and body set). */
bool resp_cache_replay(struct req *r);
/* Keeps r's answer, read under mark, if it is a plain 200 worth keeping. */
void resp_cache_keep(const struct req *r, struct generation_mark mark);

#endif
