#include "lifecycle.h"

#include <glib.h>
#include <pthread.h>

#include "db.h"
#include "log.h"
#include "vm.h"

/* domain name -> monotonic µs the portal asked it to stop. An ACPI
 * shutdown the guest ignores leaves a mark behind: it is only believed
 * for an hour, longer than any stop's timeout. */
static pthread_mutex_t expected_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *expected;
#define EXPECT_FOR_US ((gint64)3600 * G_USEC_PER_SEC)

void lifecycle_expect_stop(virDomainPtr dom)
{
    pthread_mutex_lock(&expected_lock);
    if (!expected)
        expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    gint64 *at = g_new(gint64, 1);
    *at = g_get_monotonic_time();
    g_hash_table_replace(expected, g_strdup(virDomainGetName(dom)), at);
    pthread_mutex_unlock(&expected_lock);
}

/* Whether the portal asked for this stop; the mark is used up. */
static bool take_expected(const char *name)
{
    pthread_mutex_lock(&expected_lock);
    gint64 *at = expected ? g_hash_table_lookup(expected, name) : NULL;
    bool yes = at && g_get_monotonic_time() - *at < EXPECT_FOR_US;
    if (expected)
        g_hash_table_remove(expected, name);
    pthread_mutex_unlock(&expected_lock);
    return yes;
}

/* The alert event of a lifecycle event, or NULL when it is none; a crash
 * also names its stop reason (vms.stop_reason). */
static const char *event_kind(const char *name, int event, int detail, const char **why,
                              const char **reason)
{
    if (event == VIR_DOMAIN_EVENT_CRASHED) {
        /* PANICKED: the guest's pvpanic device (domain_xml.c); on_crash
         * then destroys it, whose STOPPED/CRASHED is this same crash. */
        if (detail == VIR_DOMAIN_EVENT_CRASHED_PANICKED) {
            *why = "guest kernel panic";
            *reason = "guest_panic";
        } else {
            *why = "the guest kernel crashed and loaded its crash kernel";
        }
        return "vm_crashed";
    }
    if (event != VIR_DOMAIN_EVENT_STOPPED)
        return NULL;
    switch (detail) {
    case VIR_DOMAIN_EVENT_STOPPED_FAILED:
        take_expected(name);
        *why = "QEMU stopped unexpectedly";
        *reason = "qemu_failed";
        return "vm_crashed";
    case VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN:
        *why = "the guest powered off";
        return take_expected(name) ? NULL : "vm_stopped";
    case VIR_DOMAIN_EVENT_STOPPED_DESTROYED:
        *why = "the machine was forced off outside the portal";
        return take_expected(name) ? NULL : "vm_stopped";
    default:
        /* CRASHED follows the CRASHED event already counted; SAVED,
         * MIGRATED, FROM_SNAPSHOT are the portal's own doing. */
        take_expected(name);
        return NULL;
    }
}

void lifecycle_on_event(virDomainPtr dom, int event, int detail)
{
    const char *name = virDomainGetName(dom);
    const char *why = "", *reason = NULL;
    const char *kind = event_kind(name, event, detail, &why, &reason);
    /* The state the event leaves (libvirt's CRASHED is vm_state_name's
     * "error"), and the crash's reason, in before the event: the scheduler
     * resolves a VM's alert once its row says running, and the sync below
     * can wait seconds on libvirtd, which holds the domain while on_crash
     * destroys it. A kdump kernel loaded (no reason) runs on. */
    const char *left = event == VIR_DOMAIN_EVENT_STOPPED ? "stopped" : reason ? "error" : NULL;
    if (kind && left)
        db_exec("UPDATE vms SET state = ?, stop_reason = ? WHERE domain_name = ? "
                "AND state NOT IN ('creating', 'installing')",
                DB_TEXT(left), DB_TEXT(reason), DB_TEXT(name));
    /* Every domain of the shared libvirtd reports here: only ours count.
     * Before the sync: an installer powering its VM off is the install
     * ending, not an alert, and that is known by the state it leaves. */
    unsigned long long recorded = 0;
    if (kind &&
        db_exec_count("INSERT INTO alert_events (kind, owner_id, vm_id, detail) "
                      "SELECT ?, owner_id, id, ? FROM vms WHERE domain_name = ? "
                      "AND state NOT IN ('creating', 'installing') AND NOT (IFNULL(pending, '') IN "
                      "('stopping', 'rebooting', 'suspending', 'deleting') AND "
                      "pending_since > UTC_TIMESTAMP() - INTERVAL 10 MINUTE)",
                      &recorded, DB_TEXT(kind), DB_TEXT(why), DB_TEXT(name)) < 0)
        log_warn("%s: %s, but the database did not take the event", name, why);
    else if (recorded)
        log_info("%s: %s (%s)", name, why, kind);
    vm_state_sync(dom);
}
