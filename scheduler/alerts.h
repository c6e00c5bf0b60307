/* What alert evaluation (alerts.c) and event alerts (events.c) share. */
#ifndef VMM_SCHEDULER_ALERTS_H
#define VMM_SCHEDULER_ALERTS_H

#include <stdbool.h>

#include "db.h"

struct rule {
    long long id, owner_id, vm_id, user_id, duration_s, repeat_s;
    char metric[20], scope[8], op[4], severity[12], action[12];
    double threshold, hysteresis;
    bool silenced;
};

/* The enabled rules, with "AND ..." where (params its ?s), for alert_rule_read. */
struct db_rows *alert_rules_query(const char *where, const struct db_param *params);
void alert_rule_read(struct db_rows *rows, int i, struct rule *r);
/* Rule kinds that are events (alert_events), not sampled values. */
bool alert_metric_is_event(const char *metric);
/* Fires an alert: its notifications (event "firing" or "repeat"), and the
 * VM action if the rule has one. */
void alert_fire(const struct rule *r, long long alert_id, long long vm_id, const char *event);

#endif
