/* Who may do what. Routes name a permission (lib/web/router.h); objects are
 * checked per object: a user touches only what they own, an admin all. */
#ifndef VMM_RBAC_H
#define VMM_RBAC_H

#include <stdbool.h>

#include "user.h"

/* What a route asks of its caller (lib/web/router.h). */
enum perm {
    PERM_ANON,    /* anyone, logged in or not */
    PERM_USER,    /* any logged-in, enabled account */
    PERM_ADMIN,   /* role admin */
};

/* Whether user (NULL: anonymous) holds perm. */
bool rbac_allows(const struct user *user, enum perm perm);
/* Whether user may act on an object owned by owner_id. */
bool rbac_may_touch(const struct user *user, long long owner_id);

#endif
