/* amconf: see amconf.h. */
#include "config/amconf.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config/mesos.h"

/* Flink's default taskmanager.memory.process.size (its config.yaml). */
#define DEFAULT_PROCESS_MB 1728
#define DEFAULT_IDLE_TIMEOUT_MS 30000L

struct unit {
        const char *name;
        long factor;
};

/* Splits "<digits> [unit]"; the unit is matched case-insensitively. */
static int scaled(const char *s, const struct unit *units, long divisor, long *ret)
{
        char *end;
        long long v;

        while (isspace((unsigned char)*s))
                s++;
        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno)
                return -EINVAL;
        while (isspace((unsigned char)*end))
                end++;
        size_t n = strlen(end);
        while (n > 0 && isspace((unsigned char)end[n - 1]))
                n--;
        for (const struct unit *u = units; u->name; u++) {
                if (strlen(u->name) != n || strncasecmp(end, u->name, n) != 0)
                        continue;
                if (v > (long long)(1L << 50) / u->factor)
                        return -EINVAL;
                *ret = (long)(v * u->factor / divisor);
                return 0;
        }
        return -EINVAL;
}

int amconf_parse_duration_ms(const char *s, long *ret)
{
        static const struct unit units[] = {
                { "", 1 },          { "ms", 1 },          { "milli", 1 },       { "millis", 1 },
                { "millisecond", 1 },{ "milliseconds", 1 },{ "s", 1000 },       { "sec", 1000 },
                { "secs", 1000 },   { "second", 1000 },   { "seconds", 1000 },  { "min", 60000 },
                { "m", 60000 },     { "mins", 60000 },    { "minute", 60000 },  { "minutes", 60000 },
                { "h", 3600000 },   { "hour", 3600000 },  { "hours", 3600000 }, { "d", 86400000 },
                { "day", 86400000 },{ "days", 86400000 }, { NULL, 0 },
        };
        return scaled(s, units, 1, ret);
}

int amconf_parse_memory_mb(const char *s, long *ret)
{
        static const struct unit units[] = {
                { "", 1 },           { "b", 1 },           { "bytes", 1 },       { "k", 1L << 10 },
                { "kb", 1L << 10 },  { "kibibytes", 1L << 10 }, { "m", 1L << 20 }, { "mb", 1L << 20 },
                { "mebibytes", 1L << 20 }, { "g", 1L << 30 }, { "gb", 1L << 30 }, { "gibibytes", 1L << 30 },
                { "t", 1L << 40 },   { "tb", 1L << 40 },   { "tebibytes", 1L << 40 }, { NULL, 0 },
        };
        return scaled(s, units, 1L << 20, ret);
}

static int invalid(char *err, size_t errlen, const char *key, const char *value, const char *expected)
{
        snprintf(err, errlen, "invalid %s=\"%.64s\": expected %s", key, value, expected);
        return -EINVAL;
}

static int get_long(const struct conf *c, const char *key, long min, long max, long def, long *ret, char *err,
                    size_t errlen)
{
        const char *v = conf_get(c, key);
        char expected[96];

        *ret = def;
        if (!v)
                return 0;
        if (settings_parse_long(v, min, max, ret) < 0) {
                snprintf(expected, sizeof expected, "an integer from %ld to %ld", min, max);
                return invalid(err, errlen, key, v, expected);
        }
        return 0;
}

/* "attr:value,attr:value" (Flink's hard host-attribute constraints). */
static int parse_constraints(struct amconf *a, const char *text, char *err, size_t errlen)
{
        static const char key[] = "mesos.constraints.hard.hostattribute";
        const char *p = text;

        while (*p) {
                size_t len = strcspn(p, ",");
                const char *colon = memchr(p, ':', len);
                struct amconf_constraint *k = &a->constraints[a->n_constraints];
                size_t flen = colon ? (size_t)(colon - p) : 0, vlen = colon ? len - flen - 1 : 0;

                if (a->n_constraints == AMCONF_MAX_CONSTRAINTS)
                        return invalid(err, errlen, key, text, "at most 16 attr:value pairs");
                if (!colon || flen == 0 || vlen == 0 || flen >= sizeof k->field || vlen >= sizeof k->value ||
                    memchr(colon + 1, ':', vlen))
                        return invalid(err, errlen, key, text, "attr:value[,attr:value...], such as rack:r1,zone:a");
                memcpy(k->field, p, flen);
                k->field[flen] = '\0';
                memcpy(k->value, colon + 1, vlen);
                k->value[vlen] = '\0';
                a->n_constraints++;
                p += len + (p[len] == ',');
        }
        return 0;
}

static int resources(struct amconf *a, const struct conf *c, char *err, size_t errlen)
{
        const char *cpus = conf_get(c, "mesos.resourcemanager.tasks.cpus");
        const char *mem = conf_get(c, "mesos.resourcemanager.tasks.mem");
        const char *size = conf_get(c, "taskmanager.memory.process.size");
        int r;

        if (cpus) {
                char *end;
                errno = 0;
                a->cpus = strtod(cpus, &end);
                if (errno || end == cpus || *end || !(a->cpus >= 0 && a->cpus <= 4096))
                        return invalid(err, errlen, "mesos.resourcemanager.tasks.cpus", cpus, "a number of CPUs from 0 to 4096");
        }
        const struct conf_entry *slots = conf_find(c, "taskmanager.numberOfTaskSlots");
        if ((r = get_long(c, "taskmanager.numberOfTaskSlots", 1, 4096, 0, &a->slots, err, errlen)) < 0)
                return r;
        /* A TaskManager's supervisor derives its slots from its CPUs over
         * anything below ZooKeeper (the image's file says 1), and the CPUs
         * default to one per slot: the two agree either way. */
        if (slots && slots->source < CONF_SRC_ZOOKEEPER)
                a->slots = 0;
        if (!a->slots)
                a->slots = a->cpus >= 1 ? (long)a->cpus : 1;
        if (a->cpus == 0)
                a->cpus = (double)a->slots;
        if (mem)
                return get_long(c, "mesos.resourcemanager.tasks.mem", 64, 1L << 24, 0, &a->mem_mb, err, errlen);
        a->mem_mb = DEFAULT_PROCESS_MB;
        if (size && (amconf_parse_memory_mb(size, &a->mem_mb) < 0 || a->mem_mb < 64))
                return invalid(err, errlen, "taskmanager.memory.process.size", size, "a memory size such as 1728m or 2g");
        a->mem_mb += MESOS_HEADROOM_MB;
        return 0;
}

static bool valid_app_id(const char *id)
{
        return id[0] == '/' && strlen(id) < 512 && !id[strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789-._/")];
}

int amconf_load(struct amconf *ret, const struct conf *c, const struct settings *set, const char *app_id, char *err,
                size_t errlen)
{
        const char *image = conf_get(c, "mesos.resourcemanager.tasks.container.image.name");
        const char *constraints = conf_get(c, "mesos.constraints.hard.hostattribute");
        const char *idle = conf_get(c, "resourcemanager.taskmanager-timeout");
        long max_slots;
        int r;

        *ret = (struct amconf){ .max_tasks = set->tm_max, .idle_timeout_ms = DEFAULT_IDLE_TIMEOUT_MS,
                                .registration_timeout_ms = set->tm_registration_timeout_s * 1000,
                                .interval_ms = set->am_interval_s * 1000 };
        if ((r = get_long(c, "mesos.initial-tasks", 0, 10000, 1, &ret->initial_tasks, err, errlen)) < 0 ||
            (r = get_long(c, "mesos.maximum-failed-tasks", -1, 100000, -1, &ret->max_failed, err, errlen)) < 0 ||
            (r = get_long(c, "slotmanager.number-of-slots.max", 0, 1L << 30, 0, &max_slots, err, errlen)) < 0 ||
            (r = resources(ret, c, err, errlen)) < 0)
                return r;
        /* Flink's rule: -1 means as many as the initial tasks (at least one). */
        if (ret->max_failed < 0)
                ret->max_failed = ret->initial_tasks > 0 ? ret->initial_tasks : 1;
        if (max_slots > 0 && max_slots / ret->slots < ret->max_tasks)
                ret->max_tasks = max_slots / ret->slots;
        if (ret->initial_tasks > ret->max_tasks) {
                snprintf(err, errlen, "mesos.initial-tasks=%ld is above the maximum of %ld TaskManagers: expected at most "
                         "SUPERVISOR_TM_MAX (and slotmanager.number-of-slots.max / slots)", ret->initial_tasks, ret->max_tasks);
                return -EINVAL;
        }
        if (idle && (amconf_parse_duration_ms(idle, &ret->idle_timeout_ms) < 0 || ret->idle_timeout_ms < 0))
                return invalid(err, errlen, "resourcemanager.taskmanager-timeout", idle, "a duration such as 30 s or 30000");
        if (image && (!*image || strlen(image) >= sizeof ret->image || strpbrk(image, " \t\r\n")))
                return invalid(err, errlen, "mesos.resourcemanager.tasks.container.image.name", image, "a Docker image name");
        if (image)
                snprintf(ret->image, sizeof ret->image, "%s", image);
        if (constraints && (r = parse_constraints(ret, constraints, err, errlen)) < 0)
                return r;
        if (set->tm_app_id) {
                if (!valid_app_id(set->tm_app_id))
                        return invalid(err, errlen, "SUPERVISOR_TM_APP_ID", set->tm_app_id,
                                       "an app path such as /flink/taskmanagers");
                snprintf(ret->tm_app_id, sizeof ret->tm_app_id, "%s", set->tm_app_id);
        } else if (app_id && *app_id) {
                snprintf(ret->tm_app_id, sizeof ret->tm_app_id, "%.500s%s", app_id, AMCONF_TM_APP_SUFFIX);
        }
        ret->job_linger_ms = set->job_linger_s * 1000;
        if (set->job_group) {
                size_t n = strlen(set->job_group);
                if (!valid_app_id(set->job_group) || n < 2 || set->job_group[n - 1] == '/' || !app_id ||
                    strncmp(app_id, set->job_group, n) != 0 || app_id[n] != '/')
                        return invalid(err, errlen, "SUPERVISOR_JOB_GROUP", set->job_group,
                                       "the group that holds MARATHON_APP_ID, such as /jobs/wordcount for /jobs/wordcount/jobmanager");
                snprintf(ret->job_group, sizeof ret->job_group, "%s", set->job_group);
        }
        return 0;
}
