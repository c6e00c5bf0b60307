/* The compatibility layer: requests written against the VoidVM user guide
 * (../shared/seeds/voidvm-vm-guide.md) mapped onto our API, in one place.
 * Two tables in compat.c: path aliases (the guide's path → ours, before
 * the route is matched) and field mappings (the guide's body → our fields,
 * before the body is validated against the route's own field table). What
 * the guide asks and we cannot do is a 422 `unsupported` naming its field,
 * never silently dropped. docs/api.md lists them as deprecated equivalents.
 */
#ifndef VMM_COMPAT_H
#define VMM_COMPAT_H

#include "http.h"
#include "router.h"

/* One of the guide's paths that differs from ours. A "*" is one path
 * segment, carried over to ours in order. Deprecated: new scripts use ours. */
struct compat_alias {
    const char *method;
    const char *from;
    const char *to;
    const char *to_method;   /* our route's method when it differs (NULL: method) */
};

/* The guide's paths, {NULL}-terminated: tools/vmm-openapi describes each
 * as a deprecated operation. */
const struct compat_alias *compat_aliases(void);

/* Adds the guide's body fields route accepts (through compat_body) to
 * schema, its input_schema(): each marked deprecated, saying which of ours
 * it becomes, so the listing tells all that the route takes. */
void compat_describe_body(const struct route *route, json_t *schema);

/* Rewrites r->route_path when it is one of the guide's aliases (API only);
 * the answer then carries `Deprecation: true` and a Link to our path. */
void compat_route(struct req *r);

/* Rewrites the JSON body of route into our field names when it has the
 * guide's fields. 0, or -1 with r->err (400 for a malformed guide field,
 * 422 `unsupported` for one we cannot honour, 404 for a template or ISO
 * the caller cannot see), each naming the guide's field. */
int compat_body(struct req *r, const struct route *route);

/* An error's field in the caller's words: the guide's name of a field the
 * body mapping renamed (r->err.field "memory_mb" → "hardware.memory.size"). */
void compat_error_field(struct req *r);

/* "Ubuntu 20.04 Server" → "ubuntu-20.04-server": lower case ASCII letters,
 * digits and dots, every other run of characters one '-'. Newly allocated. */
char *compat_slug(const char *name);

#endif
