-- People and oversight: API tokens, avatars, image-storage quotas and the
-- before/after of changes in the audit log.

-- Personal API tokens: only the SHA-256 of the token is stored; the token
-- itself is shown once, at creation. Revoking deletes the row.
CREATE TABLE api_tokens (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id BIGINT UNSIGNED NOT NULL,
    name VARCHAR(64) NOT NULL,
    token_hash CHAR(64) NOT NULL,
    -- the first characters of the token, so its owner can recognise it
    prefix VARCHAR(16) NOT NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    last_used_at DATETIME NULL,
    UNIQUE KEY api_tokens_hash (token_hash),
    KEY api_tokens_user (user_id),
    CONSTRAINT api_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- One picture per user, already checked to be a PNG or JPEG of sane size.
CREATE TABLE avatars (
    user_id BIGINT UNSIGNED NOT NULL PRIMARY KEY,
    content_type ENUM('image/png', 'image/jpeg') NOT NULL,
    width INT UNSIGNED NOT NULL,
    height INT UNSIGNED NOT NULL,
    -- base64 of the file (the database layer binds text)
    data MEDIUMTEXT CHARACTER SET ascii NOT NULL,
    updated_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    CONSTRAINT avatars_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Image storage (ISOs and templates a user owns) joins the quota.
ALTER TABLE quotas ADD COLUMN max_image_gb INT UNSIGNED NULL;

-- What a change changed: {"field": {"before": x, "after": y}}, or NULL.
ALTER TABLE audit_log
    ADD COLUMN changes TEXT NULL,
    ADD KEY audit_action (action, created_at);

-- Settings an admin changes at run time; a missing row means the
-- configuration file's value. "registration": "true" or "false".
CREATE TABLE settings (
    name VARCHAR(64) NOT NULL PRIMARY KEY,
    value VARCHAR(255) NOT NULL,
    updated_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP()
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
