-- Templates that refer to files outside themselves are set aside when the
-- helper re-inspects the library at start (helper/library.c).
ALTER TABLE templates
    MODIFY status ENUM('importing', 'ready', 'failed', 'quarantined') NOT NULL DEFAULT 'ready',
    ADD COLUMN quarantine_reason VARCHAR(255) NOT NULL DEFAULT '' AFTER status;
