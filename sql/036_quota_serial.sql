-- Every quota check writes its owner's row (issue 19): on a Galera
-- cluster a SELECT ... FOR UPDATE locks on its own node only, so two
-- creates through two nodes could both pass the check. Two checks that
-- write the same row conflict at certification instead; the loser's
-- transaction runs again and reads the winner's use.
ALTER TABLE users ADD COLUMN quota_serial BIGINT UNSIGNED NOT NULL DEFAULT 0;
