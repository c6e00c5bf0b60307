-- Why a job failed, as a code the portal translates (the message stays,
-- in the helper's English, for logs and API clients).
ALTER TABLE jobs ADD COLUMN error_code VARCHAR(48) NOT NULL DEFAULT '' AFTER message;
-- A VM's creating job is found by its vm_id (delete and reconcile check
-- that no live job makes it).
ALTER TABLE jobs ADD KEY jobs_vm (vm_id, state);
