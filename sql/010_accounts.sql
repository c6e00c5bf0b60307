-- Accounts: user names that match exactly, and the counts of wrong
-- passwords that slow guessing down without locking anyone out.

-- A user name logs in only as it is spelled: the column compares bytes,
-- trailing spaces included (MariaDB's _ci collations ignore case, and its
-- PAD SPACE ones trailing spaces, so 'Admin ' was 'admin'). Names stay
-- unique regardless of case, so no 'Admin' can sit beside 'admin'; this
-- fails if two existing names differ only in case: rename one first.
ALTER TABLE users
    MODIFY username VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    ADD COLUMN username_folded VARCHAR(32) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin
        AS (LOWER(username)) PERSISTENT,
    ADD UNIQUE KEY users_username_folded (username_folded);

-- users.failed_logins and users.locked_until are no longer used: nothing
-- locks an account any more (lib/login_throttle.h).

-- Wrong passwords per (user name, address key) and per user name over all
-- addresses (address ''). The name is the one typed, known or not, so
-- the answers do not tell which names exist.
CREATE TABLE login_throttle (
    username VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_nopad_bin NOT NULL,
    address VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    failures INT UNSIGNED NOT NULL,
    last_failure_at DATETIME(3) NOT NULL,
    blocked_until DATETIME(3) NULL,
    PRIMARY KEY (username, address),
    KEY login_throttle_time (last_failure_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
