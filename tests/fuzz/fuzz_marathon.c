/* libFuzzer target for what Marathon answers: GET /v2/apps/{id} bodies,
 * planned by appchecks. Besides memory safety it checks two properties:
 * a planned write is a JSON object holding only the two check arrays, and
 * an app that already carries the planned checks needs no second write. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "integrations/appchecks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct appchecks_want want = {
        .protocol = APPCHECKS_HTTP, .grace_s = 300, .interval_s = 30, .timeout_s = 10, .failures = 3,
        .ready_interval_s = 30, .ready_timeout_s = 10, .health_port = 8558,
};

/* The app after Marathon applied body: the sent arrays replace its own. */
static char *applied(const uint8_t *data, size_t size, const char *body)
{
        json_t *root = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        json_t *patch = json_loads(body, 0, NULL), *app = json_object_get(root, "app");
        char *out = NULL;

        if (!patch || !json_is_object(patch) || json_object_size(patch) == 0 || json_object_size(patch) > 2) {
                fprintf(stderr, "planned body is not a patch of the check arrays: %s\n", body);
                abort();
        }
        if (json_object_update(app, patch) == 0)
                out = json_dumps(root, JSON_COMPACT);
        json_decref(patch);
        json_decref(root);
        return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct appchecks_plan plan, again;
        char err[300];

        if (appchecks_plan((const char *)data, size, &want, &plan, err, sizeof err) < 0 || !plan.body)
                return 0;
        char *after = applied(data, size, plan.body);
        if (after && appchecks_plan(after, strlen(after), &want, &again, err, sizeof err) == 0 && again.body) {
                fprintf(stderr, "checks still differ after the write:\n%s\nplanned again: %s\n", after, again.body);
                abort();
        }
        if (after)
                appchecks_plan_free(&again);
        free(after);
        appchecks_plan_free(&plan);
        return 0;
}
