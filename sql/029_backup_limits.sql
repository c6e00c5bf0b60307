-- Issue 16, the rest of backups.
-- One backup of a VM at a time, held by the database itself: the VM's id
-- while a backup is being made, NULL once it is ready or failed, and
-- unique, so of two parallel requests one INSERT fails (duplicate key)
-- whatever the helper's threads do. Two such rows the old check let
-- through (a race) would stop the key: all but the newest are failed first.
UPDATE backups b JOIN (SELECT vm_id, MAX(id) AS newest FROM backups WHERE status = 'creating'
                       GROUP BY vm_id HAVING COUNT(*) > 1) d ON d.vm_id = b.vm_id
    SET b.status = 'failed', b.note = 'Begun beside another backup of the machine.',
        b.finished_at = UTC_TIMESTAMP()
    WHERE b.status = 'creating' AND b.id <> d.newest;
ALTER TABLE backups
    ADD COLUMN active_vm_id BIGINT UNSIGNED AS (IF(status = 'creating', vm_id, NULL)) PERSISTENT,
    ADD UNIQUE KEY backups_one_active (active_vm_id),
    -- the VM's hardware when it was backed up (vcpus, memory, topology,
    -- arch, CPU model, boot order, graphics...): a restore as a new VM
    -- needs it after the VM itself is gone
    ADD COLUMN hardware LONGTEXT NULL CHECK (hardware IS NULL OR JSON_VALID(hardware)),
    -- the schedule's slot a scheduled backup ran for: the time retention
    -- sorts it by (a user's backup: its created_at)
    ADD COLUMN slot_at DATETIME NULL;

-- Retention tiers beside keep (the newest `keep` backups): the newest
-- backup of each of the last keep_daily days, keep_weekly ISO weeks and
-- keep_monthly months that have one, as Proxmox's prune counts them (UTC).
ALTER TABLE backup_policies
    ADD COLUMN keep_daily INT UNSIGNED NOT NULL DEFAULT 0 AFTER keep,
    ADD COLUMN keep_weekly INT UNSIGNED NOT NULL DEFAULT 0 AFTER keep_daily,
    ADD COLUMN keep_monthly INT UNSIGNED NOT NULL DEFAULT 0 AFTER keep_weekly;
