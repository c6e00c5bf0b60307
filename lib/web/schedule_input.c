#include "schedule_input.h"

#include "cron.h"
#include "i18n.h"

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
