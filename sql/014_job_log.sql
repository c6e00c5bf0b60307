-- The task log (issue 15): what a job works on, so the jobs page can link
-- it even when the job is not about a VM, and the lines a job writes as it
-- goes, shown on its page.
ALTER TABLE jobs
    -- 'vm', 'iso', 'template' or 'upload'; NULL for a VM job that only has vm_id
    ADD COLUMN target_type VARCHAR(16) NULL AFTER vm_id,
    ADD COLUMN target_id BIGINT UNSIGNED NULL AFTER target_type,
    -- the target's name when the job began, kept for when it is gone
    ADD COLUMN target_name VARCHAR(255) NOT NULL DEFAULT '' AFTER target_id,
    ADD KEY jobs_created (created_at);

CREATE TABLE job_log (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    job_id BIGINT UNSIGNED NOT NULL,
    at DATETIME(3) NOT NULL DEFAULT UTC_TIMESTAMP(3),
    line VARCHAR(500) NOT NULL,
    KEY job_log_job (job_id, id),
    CONSTRAINT job_log_job_fk FOREIGN KEY (job_id) REFERENCES jobs (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Transitional states of the user guide's diagram: set by vmm-vms while an
-- action is under way (a graceful stop's job clears it when it ends), shown
-- as the VM's state. One older than ten minutes is stale (a program died
-- half way) and ignored.
ALTER TABLE vms
    ADD COLUMN pending ENUM('starting', 'stopping', 'rebooting', 'pausing', 'resuming',
                            'suspending', 'deleting') NULL AFTER state,
    ADD COLUMN pending_since DATETIME NULL AFTER pending;

-- What a template is best run with (the create form's defaults), beside
-- the minimums it needs; NULL: the user guide's 2 vCPUs, 2048 MB, 20 GB.
ALTER TABLE templates
    ADD COLUMN recommended_vcpus INT UNSIGNED NULL AFTER min_disk_gb,
    ADD COLUMN recommended_memory_mb INT UNSIGNED NULL AFTER recommended_vcpus,
    ADD COLUMN recommended_disk_gb INT UNSIGNED NULL AFTER recommended_memory_mb;
