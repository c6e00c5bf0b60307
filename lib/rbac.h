/* Who may do what. Routes name a permission (router.h); objects are
 * checked per object: a user touches only what they own, an admin all. */
#ifndef VMM_RBAC_H
#define VMM_RBAC_H

#include <stdbool.h>

#include "router.h"
#include "user.h"

/* Whether user (NULL: anonymous) holds perm. */
bool rbac_allows(const struct user *user, enum perm perm);
/* Whether user may act on an object owned by owner_id. */
bool rbac_may_touch(const struct user *user, long long owner_id);

#endif
