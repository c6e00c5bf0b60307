-- The ISO library (uploads come with the images issue), and VMs made from an ISO.

CREATE TABLE isos (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(128) NOT NULL,
    -- the file's name inside the helper's iso pool; never a client path
    file_name VARCHAR(128) NOT NULL,
    size_bytes BIGINT UNSIGNED NOT NULL,
    md5 CHAR(32) NOT NULL,
    sha256 CHAR(64) NOT NULL,
    volume_label VARCHAR(32) NOT NULL DEFAULT '',
    visibility ENUM('public', 'private') NOT NULL DEFAULT 'public',
    owner_id BIGINT UNSIGNED NULL,
    status ENUM('importing', 'ready', 'failed') NOT NULL DEFAULT 'ready',
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    UNIQUE KEY isos_file (file_name),
    KEY isos_owner (owner_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

ALTER TABLE vms
    ADD COLUMN iso_id BIGINT UNSIGNED NULL AFTER template_id,
    ADD KEY vms_iso (iso_id),
    ADD CONSTRAINT vms_iso_fk FOREIGN KEY (iso_id) REFERENCES isos (id);
