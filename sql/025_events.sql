-- Event alerts and the metrics spool (issue 11).

-- The helper spools its samples; the scheduler writes them into the RRD
-- files (lib/metrics_store.h), every second so that charts lag by one.
-- alerts.events turns recorded events into alerts as they come.
INSERT INTO scheduler_tasks (name, interval_s) VALUES
    ('metrics.store', 1),
    ('alerts.events', 1);

-- Rule kinds beyond the sampled metrics: events (a VM crashed, a VM
-- stopped without the portal asking, a job failed, the helper's samples
-- stopped: the host is unreachable) and a pool's free space in percent.
ALTER TABLE alert_rules MODIFY metric ENUM('cpu', 'memory', 'disk', 'network', 'pool_free',
    'vm_crashed', 'vm_stopped', 'job_failed', 'host_unreachable') NOT NULL;

-- What happened, recorded where it is seen (the helper's libvirt event
-- callback, the trigger below) and turned into alerts by the scheduler,
-- which stamps handled_at (a claim: two schedulers handle an event once).
CREATE TABLE alert_events (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind ENUM('vm_crashed', 'vm_stopped', 'job_failed') NOT NULL,
    owner_id BIGINT UNSIGNED NOT NULL,
    vm_id BIGINT UNSIGNED NULL,
    job_id BIGINT UNSIGNED NULL,
    detail VARCHAR(255) NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    handled_at DATETIME NULL,
    KEY alert_events_new (handled_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every way a job fails (the helper's job runner, an expired queued job,
-- reconcile) ends in this one UPDATE of its state: caught here once
-- rather than in each.
CREATE TRIGGER jobs_failed_event AFTER UPDATE ON jobs FOR EACH ROW
    INSERT INTO alert_events (kind, owner_id, vm_id, job_id, detail)
    SELECT 'job_failed', NEW.owner_id, NEW.vm_id, NEW.id,
           LEFT(CONCAT(NEW.kind, ': ', NEW.message), 255)
    FROM DUAL WHERE NEW.state = 'failed' AND OLD.state <> 'failed';

-- The pools' space as the helper last saw it (spooled with the samples).
CREATE TABLE storage_pool_space (
    pool VARCHAR(255) NOT NULL PRIMARY KEY,
    capacity_bytes BIGINT UNSIGNED NOT NULL,
    available_bytes BIGINT UNSIGNED NOT NULL,
    sampled_at DATETIME NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- When an alert's action (restart, suspend) was taken: the once-only
-- claim, apart from the message an event alert already has.
ALTER TABLE alerts ADD COLUMN action_at DATETIME NULL AFTER notified_at;
