-- The browser console: each VM's VNC password (QEMU needs it in clear; it
-- is never rendered into a page) and the one-time console tokens (only
-- their SHA-256 is stored; a token is consumed by its first use).
ALTER TABLE vms ADD COLUMN vnc_password VARCHAR(8) NULL;

CREATE TABLE console_tokens (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    digest CHAR(64) NOT NULL,
    user_id BIGINT UNSIGNED NOT NULL,
    vm_id BIGINT UNSIGNED NOT NULL,
    created_at DATETIME NOT NULL DEFAULT UTC_TIMESTAMP(),
    expires_at DATETIME NOT NULL,
    used_at DATETIME NULL,
    UNIQUE KEY console_tokens_digest (digest),
    KEY console_tokens_expires (expires_at),
    CONSTRAINT console_tokens_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    CONSTRAINT console_tokens_vm_fk FOREIGN KEY (vm_id) REFERENCES vms (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
