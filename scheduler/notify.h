/* Notifications: messages queued in notification_deliveries (by alert
 * evaluation, or the channel's Test button) and delivered by the
 * notifications.deliver task to email (SMTP through libcurl: STARTTLS or
 * TLS, login), webhooks (JSON, X-VMM-Signature: sha256=<HMAC of the body>)
 * and DingTalk robots (markdown, signed URL or keyword, batched to stay
 * under 20 messages a minute a robot), in the channel's language. A failed
 * delivery is retried with back-off. */
#ifndef VMM_SCHEDULER_NOTIFY_H
#define VMM_SCHEDULER_NOTIFY_H

#include <stddef.h>

/* Queues event ("firing", "resolved", "repeat") of an alert to every
 * enabled channel of its rule. */
void notify_queue(long long rule_id, long long alert_id, const char *event);
/* Asks the helper to restart or suspend the VM of a firing alert. */
void notify_vm_action(long long owner_id, long long rule_id, long long alert_id, long long vm_id,
                      const char *action);

/* Helpers shared with the tests' expectations (documented in docs/api.md). */
/* "sha256=<hex>" of HMAC-SHA256(key, body) into out (72 bytes). */
void notify_webhook_signature(const char *key, const char *body, size_t len, char out[72]);
/* DingTalk's sign: urlencode(base64(HMAC-SHA256(secret, "<ms>\n<secret>"))), newly allocated. */
char *notify_dingtalk_sign(const char *secret, long long timestamp_ms);

#endif
