/* The DNS servers of a network or an IP pool: one column of dotted quads
 * joined by commas, at most DNS_SERVERS_MAX of them. The API sends them as
 * an array, a page's form as one line ("a, b"). */
#ifndef VMM_DNS_SERVERS_H
#define VMM_DNS_SERVERS_H

#include <jansson.h>
#include <stddef.h>

#include "http.h"

#define DNS_SERVERS_MAX 8

/* The column's servers as a JSON array of strings (NULL: none). */
json_t *dns_servers_json(const char *text);
/* The request's dns as the column's text in out (size bytes); no dns in
 * the request gives fallback (NULL: none). 0, or -1 with a 400 naming dns
 * (not a dotted quad, more than DNS_SERVERS_MAX). */
int dns_servers_input(struct req *r, char *out, size_t size, const char *fallback);

#endif
