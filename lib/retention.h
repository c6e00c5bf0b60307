/* Which backups a retention policy keeps (issue 16), as Proxmox's prune
 * chooses them (PVE::Storage prune_mark_backup_group): the newest `last`;
 * then, per tier, the newest backup of each of the newest `daily` days,
 * `weekly` ISO weeks and `monthly` months that have one and hold no backup
 * an earlier rule kept. All in UTC. Then our chains: whatever a kept
 * backup builds on (its parent, and the parent's...) is kept too, so a
 * full backup goes only with its whole chain. Pure, for the unit suite. */
#ifndef VMM_RETENTION_H
#define VMM_RETENTION_H

#include <stdbool.h>
#include <time.h>

struct retention_backup {
    long long id;
    long long parent_id;   /* 0: a full backup */
    time_t at;             /* the time it stands for */
    bool pinned;           /* not the policy's to prune (a user's); kept */
    bool keep;             /* out */
};

struct retention_policy {
    int last, daily, weekly, monthly;
};

/* Sets keep on each of the n backups (in any order). */
void retention_select(struct retention_backup *backups, int n,
                      const struct retention_policy *policy);

#endif
