-- Snapshots of VMs (issue 16). libvirt holds the snapshots themselves
-- (internal qcow2 snapshots, named vmm-s<id>); a row holds what libvirt
-- does not: our id, the user's name, who made it (a user or the schedule),
-- whether it is pinned, and the space it reserves in the owner's disk quota.
CREATE TABLE snapshots (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    vm_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(64) NOT NULL,
    description VARCHAR(255) NOT NULL DEFAULT '',
    -- 'creating' until libvirt has it (a row left so by a restart is removed)
    status ENUM('creating', 'ready') NOT NULL DEFAULT 'creating',
    with_memory TINYINT(1) NOT NULL DEFAULT 0,
    -- the VM's state when it was taken: a revert brings it back so
    vm_state ENUM('running', 'paused', 'stopped') NOT NULL DEFAULT 'stopped',
    origin ENUM('user', 'schedule') NOT NULL DEFAULT 'user',
    pinned TINYINT(1) NOT NULL DEFAULT 0,
    -- what it can come to hold: the disk's data when taken plus its memory
    size_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_by BIGINT UNSIGNED NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY snapshots_name (vm_id, name),
    CONSTRAINT snapshots_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A VM's snapshot schedule (PUT /vms/{id}/snapshot-policy), run by
-- vmm-scheduler's task snapshots.schedule through the helper.
CREATE TABLE snapshot_policies (
    vm_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    schedule VARCHAR(100) NOT NULL,           -- 5-field cron, UTC (lib/cron.h)
    keep INT UNSIGNED NOT NULL,               -- snapshots of the schedule kept (pinned ones aside)
    include_memory TINYINT(1) NOT NULL DEFAULT 0,
    naming VARCHAR(48) NOT NULL DEFAULT 'auto-{timestamp}',
    -- the latest slot run: a slot runs once, and slots missed while the
    -- scheduler was down run once, as the latest of them
    last_slot DATETIME NULL,
    last_error VARCHAR(255) NOT NULL DEFAULT '',
    set_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    CONSTRAINT snapshot_policies_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Checked every minute by default (tests run it every second).
INSERT INTO scheduler_tasks (name, interval_s) VALUES ('snapshots.schedule', 60);
