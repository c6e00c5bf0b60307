-- Long operations run by the helper, polled by pages and API clients.
CREATE TABLE jobs (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    kind VARCHAR(32) NOT NULL,
    state ENUM('queued', 'running', 'succeeded', 'failed', 'cancelled') NOT NULL DEFAULT 'queued',
    progress TINYINT UNSIGNED NOT NULL DEFAULT 0,
    message VARCHAR(255) NOT NULL DEFAULT '',
    result TEXT NULL,
    owner_id BIGINT UNSIGNED NOT NULL,
    vm_id BIGINT UNSIGNED NULL,
    cancel_requested TINYINT(1) NOT NULL DEFAULT 0,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    started_at DATETIME NULL,
    finished_at DATETIME NULL,
    KEY jobs_owner (owner_id, created_at),
    KEY jobs_state (state),
    CONSTRAINT jobs_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE vms MODIFY clone ENUM('linked', 'full') NOT NULL DEFAULT 'linked';
