/* flinkrest: see flinkrest.h. */
#include "flink/flinkrest.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *load(const char *text, size_t len)
{
        return json_loadb(text, len, 0, NULL);
}

static long int_field(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);
        return json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < (1 << 30)
                       ? (long)json_integer_value(v) : -1;
}

int flinkrest_taskmanagers(const char *text, size_t len, struct amplan_tm *tms, size_t max, size_t *n)
{
        json_t *root = load(text, len), *list = json_object_get(root, "taskmanagers"), *tm;
        size_t i;
        int r = json_is_array(list) ? 0 : -EPROTO;

        *n = 0;
        json_array_foreach(list, i, tm) {
                const char *id = json_string_value(json_object_get(tm, "id"));
                long slots = int_field(tm, "slotsNumber"), free_slots = int_field(tm, "freeSlots");
                if (!id || slots < 0 || free_slots < 0 || strlen(id) >= sizeof tms->id) {
                        r = -EPROTO;
                        break;
                }
                if (*n == max)
                        continue;
                snprintf(tms[*n].id, sizeof tms[*n].id, "%s", id);
                tms[*n].slots = slots;
                tms[*n].free = free_slots;
                (*n)++;
        }
        json_decref(root);
        return r;
}

static int active(const char *state)
{
        static const char *const states[] = { "CREATED", "INITIALIZING", "RUNNING", "RESTARTING", "RECONCILING" };
        for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
                if (strcmp(state, states[i]) == 0)
                        return 1;
        return 0;
}

static bool globally_terminal(const char *state)
{
        return strcmp(state, "FINISHED") == 0 || strcmp(state, "FAILED") == 0 || strcmp(state, "CANCELED") == 0;
}

int flinkrest_active_jobs(const char *text, size_t len, char (*ids)[FLINKREST_JOB_ID], size_t max, size_t *n,
                          bool *ended)
{
        json_t *root = load(text, len), *list = json_object_get(root, "jobs"), *job;
        size_t i;
        int r = json_is_array(list) ? 0 : -EPROTO;

        *n = 0;
        *ended = r == 0 && json_array_size(list) > 0;
        json_array_foreach(list, i, job) {
                const char *id = json_string_value(json_object_get(job, "jid"));
                const char *state = json_string_value(json_object_get(job, "state"));
                if (!id || !state || strlen(id) >= FLINKREST_JOB_ID || strspn(id, "0123456789abcdef") != strlen(id)) {
                        r = -EPROTO;
                        break;
                }
                *ended = *ended && globally_terminal(state);
                if (active(state) && *n < max)
                        snprintf(ids[(*n)++], FLINKREST_JOB_ID, "%s", id);
        }
        if (r < 0)
                *ended = false;
        json_decref(root);
        return r;
}

int flinkrest_requirements(const char *text, size_t len, long *slots)
{
        json_t *root = load(text, len), *v;
        const char *key;
        int r = json_is_object(root) ? 0 : -EPROTO;

        *slots = 0;
        json_object_foreach(root, key, v) {
                long upper = int_field(json_object_get(v, "parallelism"), "upperBound");
                if (upper < 0) {
                        r = -EPROTO;
                        break;
                }
                if (upper > *slots)
                        *slots = upper;
        }
        json_decref(root);
        return r;
}

int flinkrest_parallelism(const char *text, size_t len, long *slots)
{
        json_t *root = load(text, len), *list = json_object_get(root, "vertices"), *v;
        size_t i;
        int r = json_is_array(list) ? 0 : -EPROTO;

        *slots = 0;
        json_array_foreach(list, i, v) {
                long p = int_field(v, "parallelism");
                if (p < 0) {
                        r = -EPROTO;
                        break;
                }
                if (p > *slots)
                        *slots = p;
        }
        json_decref(root);
        return r;
}
