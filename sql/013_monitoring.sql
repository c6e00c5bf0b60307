-- Monitoring (issue 11): the scheduler's periodic tasks, alert rules and
-- their alerts, notification channels and the delivery log. Samples
-- themselves are not here: they are RRD files (lib/metrics_store.h).

-- vmm-scheduler's periodic tasks (scheduler/tasks.c names the code of
-- each): a task runs when it is enabled, once per slot of interval_s
-- seconds. The run of a slot is claimed by inserting its row in
-- scheduler_runs, so two schedulers never run the same slot twice.
CREATE TABLE scheduler_tasks (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    interval_s INT UNSIGNED NOT NULL,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    last_started_at DATETIME NULL,
    last_finished_at DATETIME NULL,
    last_error VARCHAR(255) NOT NULL DEFAULT ''
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE scheduler_runs (
    task VARCHAR(64) NOT NULL,
    slot BIGINT NOT NULL,             -- unix time / interval_s
    claimed_by VARCHAR(64) NOT NULL,  -- host:pid of the scheduler that ran it
    claimed_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    PRIMARY KEY (task, slot)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- interval_s 0: every [metrics] interval_s, as samples arrive.
INSERT INTO scheduler_tasks (name, interval_s) VALUES
    ('alerts.evaluate', 0),
    ('notifications.deliver', 2),
    ('scheduler.prune', 3600);

-- Where notifications go. config holds what may be shown (URL, address,
-- keyword); secret (SMTP password, webhook key, DingTalk secret) is
-- write-only in the API.
CREATE TABLE notification_channels (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(100) NOT NULL,
    type ENUM('email', 'webhook', 'dingtalk') NOT NULL,
    language ENUM('en', 'zh_CN') NOT NULL DEFAULT 'en',
    config TEXT NOT NULL,
    secret VARCHAR(512) NOT NULL DEFAULT '',
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    updated_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    KEY channels_owner (owner_id),
    CONSTRAINT channels_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A rule: metric op threshold for duration_s, over one VM, all VMs of a
-- user, or the host (admins only).
CREATE TABLE alert_rules (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(100) NOT NULL DEFAULT '',
    metric ENUM('cpu', 'memory', 'disk', 'network') NOT NULL,
    scope ENUM('vm', 'user', 'host') NOT NULL,
    vm_id BIGINT UNSIGNED NULL,
    user_id BIGINT UNSIGNED NULL,
    operator ENUM('>', '<', '=', '!=', '>=', '<=') NOT NULL,
    threshold DOUBLE NOT NULL,
    hysteresis DOUBLE NOT NULL DEFAULT 0,
    duration_s INT UNSIGNED NOT NULL DEFAULT 0,
    severity ENUM('info', 'warning', 'critical') NOT NULL DEFAULT 'warning',
    action ENUM('notify', 'restart', 'suspend') NOT NULL DEFAULT 'notify',
    repeat_s INT UNSIGNED NOT NULL DEFAULT 0,      -- 0: notify once per firing
    silenced_until DATETIME NULL,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    KEY rules_owner (owner_id),
    KEY rules_vm (vm_id),
    CONSTRAINT rules_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT rules_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE,
    CONSTRAINT rules_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE alert_rule_channels (
    rule_id BIGINT UNSIGNED NOT NULL,
    channel_id BIGINT UNSIGNED NOT NULL,
    PRIMARY KEY (rule_id, channel_id),
    CONSTRAINT arc_rule_fk FOREIGN KEY (rule_id) REFERENCES alert_rules (id) ON DELETE CASCADE,
    CONSTRAINT arc_channel_fk FOREIGN KEY (channel_id) REFERENCES notification_channels (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One alert per rule and object (a VM, or the host: vm_id NULL) from
-- the first breach (pending) through firing to resolved; the history.
-- kind 'event': a VM that crashed or stopped unasked, a failed job.
CREATE TABLE alerts (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    rule_id BIGINT UNSIGNED NULL,
    owner_id BIGINT UNSIGNED NOT NULL,
    vm_id BIGINT UNSIGNED NULL,
    object_key VARCHAR(32) NOT NULL,  -- 'vm:12', 'host', 'job:7'
    kind ENUM('metric', 'event') NOT NULL DEFAULT 'metric',
    state ENUM('pending', 'firing', 'resolved') NOT NULL,
    severity ENUM('info', 'warning', 'critical') NOT NULL DEFAULT 'warning',
    metric VARCHAR(32) NOT NULL DEFAULT '',
    value DOUBLE NULL,
    peak_value DOUBLE NULL,
    threshold DOUBLE NULL,
    message VARCHAR(255) NOT NULL DEFAULT '',
    started_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    fired_at DATETIME NULL,
    resolved_at DATETIME NULL,
    notified_at DATETIME NULL,
    open_key VARCHAR(64) NULL,        -- rule:object while not resolved: one open alert each
    UNIQUE KEY alerts_open (open_key),
    KEY alerts_owner (owner_id, started_at),
    KEY alerts_state (state),
    CONSTRAINT alerts_rule_fk FOREIGN KEY (rule_id) REFERENCES alert_rules (id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Each message to each channel, with its attempts (retried with back-off).
CREATE TABLE notification_deliveries (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    channel_id BIGINT UNSIGNED NOT NULL,
    alert_id BIGINT UNSIGNED NULL,
    event ENUM('firing', 'resolved', 'repeat', 'test') NOT NULL,
    state ENUM('queued', 'sent', 'failed') NOT NULL DEFAULT 'queued',
    attempts INT UNSIGNED NOT NULL DEFAULT 0,
    next_attempt_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    last_error VARCHAR(255) NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    sent_at DATETIME NULL,
    KEY deliveries_due (state, next_attempt_at),
    KEY deliveries_channel (channel_id, created_at),
    CONSTRAINT deliveries_channel_fk FOREIGN KEY (channel_id) REFERENCES notification_channels (id)
        ON DELETE CASCADE,
    CONSTRAINT deliveries_alert_fk FOREIGN KEY (alert_id) REFERENCES alerts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
