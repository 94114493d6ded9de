/* libFuzzer target for what Marathon answers: GET /v2/apps/{id} bodies,
 * planned by appchecks. Besides memory safety it checks two properties:
 * a planned write is a JSON object holding only the two check arrays, and
 * an app that already carries the planned checks needs no second write.
 * The same bytes go to the Application Master's readers: the TaskManager
 * app read (tmapp_read) and built from it as the appmaster's own app
 * (tmapp_build: the body is an app with our id and instances), and
 * Flink's REST answers (flinkrest), and the job-cluster client's readers
 * of both (jobgroup). */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flink/flinkrest.h"
#include "integrations/appchecks.h"
#include "integrations/jobgroup.h"
#include "integrations/tmapp.h"

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

static void appmaster_readers(const uint8_t *data, size_t size)
{
        static struct amplan_obs obs;
        static struct amplan_tm tms[8];
        static const struct amconf am = { .initial_tasks = 1, .max_tasks = 4, .cpus = 1, .mem_mb = 1056, .slots = 1,
                                          .tm_app_id = "/fuzz/am-taskmanagers" };
        char ids[8][FLINKREST_JOB_ID], err[300], *body = NULL;
        const struct tmapp_input in = { .own_text = (const char *)data, .own_len = size, .own_app_id = "/fuzz/am",
                                        .am = &am, .image_env = "fuzz:1", .instances = 2, .want = want,
                                        .stop_timeout_s = 20 };
        size_t n;
        bool ended;
        long slots;

        tmapp_read((const char *)data, size, &obs, err, sizeof err);
        flinkrest_taskmanagers((const char *)data, size, tms, 8, &n);
        flinkrest_active_jobs((const char *)data, size, ids, 8, &n, &ended);
        flinkrest_requirements((const char *)data, size, &slots);
        flinkrest_parallelism((const char *)data, size, &slots);
        if (tmapp_build(&in, &body, err, sizeof err) == 0) {
                json_t *app = json_loads(body, 0, NULL);
                if (!app || strcmp(json_string_value(json_object_get(app, "id")) ?: "", am.tm_app_id) != 0 ||
                    json_integer_value(json_object_get(app, "instances")) != 2) {
                        fprintf(stderr, "built TaskManager app lost its id or instances: %s\n", body);
                        abort();
                }
                json_decref(app);
        }
        free(body);
}

static void jobclient_readers(const uint8_t *data, size_t size)
{
        static struct jobgroup_listed listed[4];
        struct jobgroup_jm jm;
        struct jobgroup_job job;
        char out[64];
        bool done, failed;
        size_t n;

        jobgroup_read_jm((const char *)data, size, &jm);
        jobgroup_read_job((const char *)data, size, &job);
        jobgroup_read_exception((const char *)data, size, out, sizeof out);
        jobgroup_read_flink_error((const char *)data, size, out, sizeof out);
        jobgroup_read_trigger((const char *)data, size, out, sizeof out);
        jobgroup_read_savepoint((const char *)data, size, &done, &failed, out, sizeof out);
        if (jobgroup_read_list((const char *)data, size, listed, 4, &n) == 0 && n > 4)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct appchecks_plan plan, again;
        char err[300];

        appmaster_readers(data, size);
        jobclient_readers(data, size);
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
