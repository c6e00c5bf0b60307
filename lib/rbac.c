#include "rbac.h"

bool rbac_allows(const struct user *user, enum perm perm)
{
    switch (perm) {
    case PERM_ANON:
        return true;
    case PERM_USER:
        return user && user->enabled;
    case PERM_ADMIN:
        return user && user->enabled && user->role == ROLE_ADMIN;
    }
    return false;
}

bool rbac_may_touch(const struct user *user, long long owner_id)
{
    if (!user || !user->enabled)
        return false;
    return user->role == ROLE_ADMIN || user->id == owner_id;
}
