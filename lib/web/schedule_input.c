#include "schedule_input.h"

#include "cron.h"
#include "i18n.h"
#include "list.h"

int schedule_input(struct req *r, bool *enabled)
{
    struct cron cron;
    if (cron_parse(input_str(r, "schedule"), &cron) < 0)
        return req_fail(r, 400, "invalid_schedule", "schedule",
                        _("The schedule must be 5 cron fields: minute hour day month weekday."));
    json_t *on = json_object_get(r->input, "enabled");
    *enabled = r->api ? !json_is_false(on) : json_is_true(on);
    return 0;
}

int schedule_policy_show(struct req *r, schedule_policy_fn policy_of)
{
    json_t *vm = list_path_vm(r);
    if (!vm)
        return -1;
    json_decref(vm);
    json_t *policy = policy_of(r, req_param(r, "id")->num);
    if (!policy)
        return -1;
    req_set_object(r, "policy", policy);
    return 0;
}
