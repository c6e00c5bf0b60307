-- tus uploads of ISOs and templates, and what their import records.

CREATE TABLE uploads (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    owner_id BIGINT UNSIGNED NOT NULL,
    kind ENUM('iso', 'template') NOT NULL,
    -- the client's file name, shown and stored as text; never used as a path
    filename VARCHAR(255) NOT NULL,
    name VARCHAR(128) NOT NULL,
    format ENUM('', 'qcow2', 'raw', 'vmdk', 'ova') NOT NULL DEFAULT '',
    arch ENUM('x86_64', 'aarch64') NOT NULL DEFAULT 'x86_64',
    category VARCHAR(32) NOT NULL DEFAULT '',
    os VARCHAR(64) NOT NULL DEFAULT '',
    visibility ENUM('public', 'private') NOT NULL DEFAULT 'private',
    -- the Upload-Metadata header as received, echoed by HEAD
    metadata TEXT NOT NULL,
    length_bytes BIGINT UNSIGNED NOT NULL,
    received_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0,
    state ENUM('uploading', 'importing') NOT NULL DEFAULT 'uploading',
    job_id BIGINT UNSIGNED NULL,
    expires_at DATETIME NOT NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    KEY uploads_owner (owner_id),
    KEY uploads_expires (expires_at),
    CONSTRAINT uploads_owner_fk FOREIGN KEY (owner_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- bytes on disk (the per-user image quota counts them)
ALTER TABLE templates ADD COLUMN size_bytes BIGINT UNSIGNED NOT NULL DEFAULT 0 AFTER virtual_size_bytes,
    ADD KEY templates_category (category, arch);
