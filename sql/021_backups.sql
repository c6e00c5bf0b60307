-- The job runner (issue 16): a job the helper has taken into its queue
-- (accepted_at) waits there for a worker, within the limits per kind and
-- per owner, and is not "never taken up" however long it waits.
ALTER TABLE jobs ADD COLUMN accepted_at DATETIME NULL AFTER created_at;

-- Backups of VMs (issue 16), in the helper's backup store ([backup] dir):
-- one row per backup, one per disk it holds. An incremental holds only
-- the clusters changed since its parent (libvirt checkpoint vmm-b<parent>),
-- as a qcow2 overlay whose backing file is the parent's copy of that disk.
CREATE TABLE backups (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    -- no foreign key: a VM's backups outlive it (restore as a new VM)
    vm_id BIGINT UNSIGNED NOT NULL,
    owner_id BIGINT UNSIGNED NOT NULL,
    vm_name VARCHAR(64) NOT NULL,
    mode ENUM('full', 'incremental') NOT NULL,
    parent_id BIGINT UNSIGNED NULL,
    -- creating until every disk is written and checksummed
    status ENUM('creating', 'ready', 'failed') NOT NULL DEFAULT 'creating',
    origin ENUM('user', 'schedule') NOT NULL DEFAULT 'user',
    -- why an incremental asked for became a full one, or a failure's reason
    note VARCHAR(255) NOT NULL DEFAULT '',
    size_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
    created_by BIGINT UNSIGNED NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    finished_at DATETIME NULL,
    KEY backups_vm (vm_id, id),
    KEY backups_owner (owner_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE backup_disks (
    backup_id BIGINT UNSIGNED NOT NULL,
    target VARCHAR(8) NOT NULL,
    -- the file's name in the backup store; never a client path
    file_name VARCHAR(128) NOT NULL,
    -- the disk's size as the guest sees it
    virtual_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
    -- what the file takes in the store
    size_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
    -- SHA-256 of the file as written, checked by verify and before a restore
    sha256 CHAR(64) NOT NULL DEFAULT '',
    PRIMARY KEY (backup_id, target),
    CONSTRAINT backup_disks_backup_fk FOREIGN KEY (backup_id) REFERENCES backups (id)
        ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A VM's backup schedule (PUT /vms/{id}/backup-policy), run by
-- vmm-scheduler's task backups.schedule through the helper, as the
-- snapshot schedules are.
CREATE TABLE backup_policies (
    vm_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    enabled TINYINT(1) NOT NULL DEFAULT 1,
    schedule VARCHAR(100) NOT NULL,           -- 5-field cron, UTC (lib/cron.h)
    keep INT UNSIGNED NOT NULL,               -- chains of the schedule kept (newest first)
    -- a full backup every this many scheduled ones, incrementals between
    full_every INT UNSIGNED NOT NULL DEFAULT 7,
    last_slot DATETIME NULL,
    last_error VARCHAR(255) NOT NULL DEFAULT '',
    set_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    CONSTRAINT backup_policies_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

INSERT INTO scheduler_tasks (name, interval_s) VALUES ('backups.schedule', 60);
