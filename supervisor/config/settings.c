/* settings: see settings.h. */
#include "config/settings.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/zkquorum.h"

enum setting_type { SETTING_INT, SETTING_CHOICE, SETTING_STRING };

struct setting_row {
        const char *env;
        enum setting_type type;
        long min, max;              /* SETTING_INT */
        const char *const *choices; /* SETTING_CHOICE: NULL-terminated, index = value */
        const char *def;
        const char *unit;
        size_t offset;
        bool secret;                /* kept from the children's environment */
};

static const char *const restart_choices[] = { "always", "on-failure", "never", NULL };
static const char *const level_choices[] = { "debug", "info", "warn", "error", NULL };
static const char *const format_choices[] = { "text", "json", NULL };
static const char *const on_change_choices[] = { "restart", "ignore", NULL };
static const char *const protocol_choices[] = { "HTTP", "MESOS_HTTP", NULL };

#define AT(field) offsetof(struct settings, field), false
/* A secret's row: its variable is kept from the children's environment. */
#define SECRET_AT(field) offsetof(struct settings, field), true

static const struct setting_row setting_rows[] = {
        { "SUPERVISOR_RESTART", SETTING_CHOICE, 0, 0, restart_choices, "on-failure", NULL, AT(restart) },
        { "SUPERVISOR_STOP_TIMEOUT", SETTING_INT, 0, 86400, NULL, "8", "seconds", AT(stop_timeout_s) },
        { "SUPERVISOR_BACKOFF_MIN_MS", SETTING_INT, 1, 3600000, NULL, "1000", "milliseconds", AT(backoff_min_ms) },
        { "SUPERVISOR_BACKOFF_MAX_MS", SETTING_INT, 1, 3600000, NULL, "60000", "milliseconds", AT(backoff_max_ms) },
        { "SUPERVISOR_BACKOFF_RESET", SETTING_INT, 0, 86400, NULL, "60", "seconds", AT(backoff_reset_s) },
        { "SUPERVISOR_MAX_RESTARTS", SETTING_INT, 0, 1000, NULL, "5", "restarts", AT(max_restarts) },
        { "SUPERVISOR_RESTART_WINDOW", SETTING_INT, 1, 86400, NULL, "300", "seconds", AT(restart_window_s) },
        { "SUPERVISOR_LOG_LEVEL", SETTING_CHOICE, 0, 0, level_choices, "info", NULL, AT(log_level) },
        { "SUPERVISOR_LOG_FORMAT", SETTING_CHOICE, 0, 0, format_choices, "text", NULL, AT(log_format) },
        { "SUPERVISOR_USER", SETTING_STRING, 0, 0, NULL, "flink", "the user that runs Flink when started as root", AT(user) },
        { "SUPERVISOR_CONF_DIR", SETTING_STRING, 0, 0, NULL, "/tmp/flink-conf.XXXXXX", "where the rendered Flink configuration goes", AT(conf_dir) },
        { "SUPERVISOR_HEALTH_PORT", SETTING_STRING, 0, 0, NULL, "8558", "0 (off) to 65535; else PORT_HEALTH, else 8558", AT(health_port) },
        { "FLINK_ZK_QUORUM", SETTING_STRING, 0, 0, NULL, "(none)", "host:port[,host:port...][/chroot]: config from ZooKeeper", AT(zk_quorum) },
        { "FLINK_ZK_CONFIG_PATH", SETTING_STRING, 0, 0, NULL, ZKQUORUM_DEFAULT_PATH, "the znode of the config document", AT(zk_path) },
        { "FLINK_ZK_AUTH", SETTING_STRING, 0, 0, NULL, "(none)", "digest:user:password or @/path/to/file", SECRET_AT(zk_auth) },
        { "FLINK_ZK_CACHE_DIR", SETTING_STRING, 0, 0, NULL, ZKQUORUM_DEFAULT_CACHE_DIR, "where the last good documents are kept", AT(zk_cache_dir) },
        { "FLINK_ZK_ON_CHANGE", SETTING_CHOICE, 0, 0, on_change_choices, "restart", NULL, AT(zk_on_change) },
        { "FLINK_ZK_TIMEOUT", SETTING_INT, 1, 3600, NULL, "30", "seconds", AT(zk_timeout_s) },
        { "SUPERVISOR_PROBE_INTERVAL", SETTING_INT, 1, 3600, NULL, "5", "seconds", AT(probe_interval_s) },
        { "SUPERVISOR_PROBE_TIMEOUT", SETTING_INT, 1, 600, NULL, "5", "seconds", AT(probe_timeout_s) },
        { "SUPERVISOR_PROBE_GRACE", SETTING_INT, 0, 86400, NULL, "120", "seconds", AT(probe_grace_s) },
        { "SUPERVISOR_PROBE_FAILURES", SETTING_INT, 1, 1000, NULL, "3", "probes", AT(probe_failures) },
        { "SUPERVISOR_PROBE_URL", SETTING_STRING, 0, 0, NULL, "(from the config)", "http(s)://host:port of the Flink REST to ask", AT(probe_url) },
        { "MARATHON_URL", SETTING_STRING, 0, 0, NULL, "(none)", "http(s)://host:port of Marathon: registers checks on MARATHON_APP_ID", AT(marathon_url) },
        { "MARATHON_APP_ID", SETTING_STRING, 0, 0, NULL, "(set by Marathon)", "the app to register on, e.g. /flink/jobmanager", AT(marathon_app_id) },
        { "MARATHON_CREDENTIALS_FILE", SETTING_STRING, 0, 0, NULL, "(none)", "a file holding user:password (basic auth)", SECRET_AT(marathon_credentials_file) },
        { "MARATHON_TOKEN_FILE", SETTING_STRING, 0, 0, NULL, "(none)", "a file holding a DC/OS service token", SECRET_AT(marathon_token_file) },
        { "MARATHON_CA_FILE", SETTING_STRING, 0, 0, NULL, "(system CAs)", "PEM bundle to verify Marathon's https", AT(marathon_ca_file) },
        { "SUPERVISOR_CHECK_PROTOCOL", SETTING_CHOICE, 0, 0, protocol_choices, "HTTP", NULL, AT(check_protocol) },
        { "SUPERVISOR_CHECK_GRACE", SETTING_INT, 0, 86400, NULL, "300", "seconds", AT(check_grace_s) },
        { "SUPERVISOR_CHECK_INTERVAL", SETTING_INT, 1, 86400, NULL, "30", "seconds", AT(check_interval_s) },
        { "SUPERVISOR_CHECK_TIMEOUT", SETTING_INT, 1, 86400, NULL, "10", "seconds", AT(check_timeout_s) },
        { "SUPERVISOR_CHECK_FAILURES", SETTING_INT, 0, 1000, NULL, "3", "failures in a row; 0 never kills", AT(check_failures) },
        { "SUPERVISOR_READY_INTERVAL", SETTING_INT, 2, 86400, NULL, "30", "seconds", AT(ready_interval_s) },
        { "SUPERVISOR_READY_TIMEOUT", SETTING_INT, 1, 86399, NULL, "10", "seconds, less than SUPERVISOR_READY_INTERVAL", AT(ready_timeout_s) },
        { "SUPERVISOR_TM_APP_ID", SETTING_STRING, 0, 0, NULL, "<MARATHON_APP_ID>-taskmanagers", "appmaster: the TaskManager app it owns", AT(tm_app_id) },
        { "SUPERVISOR_TM_MAX", SETTING_INT, 0, 10000, NULL, "10", "appmaster: TaskManagers at most", AT(tm_max) },
        { "SUPERVISOR_TM_REGISTRATION_TIMEOUT", SETTING_INT, 1, 86400, NULL, "180", "seconds a TaskManager task may run unregistered before it counts as failed", AT(tm_registration_timeout_s) },
        { "SUPERVISOR_AM_INTERVAL", SETTING_INT, 1, 3600, NULL, "1", "seconds between the appmaster's observations", AT(am_interval_s) },
        { "SUPERVISOR_JOB_GROUP", SETTING_STRING, 0, 0, NULL, "(none)", "appmaster: the group it removes once its jobs ended (run-job sets it)", AT(job_group) },
        { "SUPERVISOR_JOB_LINGER", SETTING_INT, 0, 86400, NULL, "30", "seconds an ended job's cluster stays before its group is removed", AT(job_linger_s) },
};

#define N_ROWS (sizeof setting_rows / sizeof setting_rows[0])

int settings_parse_long(const char *s, long min, long max, long *ret)
{
        const char *p = s;
        char *end;
        long v;

        if (*p == '-')
                p++;
        if (*p < '0' || *p > '9')
                return -EINVAL;
        errno = 0;
        v = strtol(s, &end, 10);
        if (*end != '\0')
                return -EINVAL;
        if (errno == ERANGE || v < min || v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

/* Appends to buf at *len; what does not fit is cut at the end (a message). */
__attribute__((format(printf, 4, 5)))
static void appendf(char *buf, size_t size, size_t *len, const char *format, ...)
{
        va_list ap;
        int n;

        if (*len >= size)
                return;
        va_start(ap, format);
        n = vsnprintf(buf + *len, size - *len, format, ap);
        va_end(ap);
        if (n > 0)
                *len += (size_t)n < size - *len ? (size_t)n : size - *len - 1;
}

static void describe_expected(const struct setting_row *row, char *buf, size_t size)
{
        if (row->type == SETTING_STRING) {
                snprintf(buf, size, "%s", row->unit);
                return;
        }
        if (row->type == SETTING_INT) {
                snprintf(buf, size, "an integer from %ld to %ld (%s)", row->min, row->max, row->unit);
                return;
        }
        size_t len = 0;
        appendf(buf, size, &len, "one of");
        for (size_t i = 0; row->choices[i]; i++)
                appendf(buf, size, &len, "%s %s", i ? "," : "", row->choices[i]);
}

static int parse_row(const struct setting_row *row, const char *value, long *ret)
{
        if (row->type == SETTING_INT)
                return settings_parse_long(value, row->min, row->max, ret);
        for (long i = 0; row->choices[i]; i++) {
                if (strcmp(row->choices[i], value) == 0) {
                        *ret = i;
                        return 0;
                }
        }
        return -EINVAL;
}

static void report_invalid(const struct setting_row *row, const char *value,
                           settings_report_fn report, void *data)
{
        char expected[200], msg[512];

        describe_expected(row, expected, sizeof expected);
        /* %.64s: a pasted blob must not flood the one error line. */
        snprintf(msg, sizeof msg, "invalid %s=\"%.64s\": expected %s", row->env, value, expected);
        report(msg, data);
}

int settings_load(struct settings *ret, settings_getenv_fn getenv_fn, void *env_data,
                  settings_report_fn report, void *report_data)
{
        int bad = 0;

        for (size_t i = 0; i < N_ROWS; i++) {
                const struct setting_row *row = &setting_rows[i];
                long *slot = (long *)((char *)ret + row->offset);
                const char *value = getenv_fn(row->env, env_data);

                if (row->type == SETTING_STRING) {
                        /* The default is decided where the value is used. */
                        *(const char **)((char *)ret + row->offset) = value && *value ? value : NULL;
                        continue;
                }
                if (!value || !*value)
                        value = row->def;
                if (parse_row(row, value, slot) < 0) {
                        report_invalid(row, value, report, report_data);
                        bad = 1;
                }
        }
        if (!bad && ret->backoff_min_ms > ret->backoff_max_ms) {
                char msg[256];
                snprintf(msg, sizeof msg,
                         "invalid SUPERVISOR_BACKOFF_MIN_MS=%ld: expected at most SUPERVISOR_BACKOFF_MAX_MS=%ld",
                         ret->backoff_min_ms, ret->backoff_max_ms);
                report(msg, report_data);
                bad = 1;
        }
        /* Marathon refuses a readiness check that could not time out before the next one. */
        if (!bad && ret->ready_timeout_s >= ret->ready_interval_s) {
                char msg[256];
                snprintf(msg, sizeof msg, "invalid SUPERVISOR_READY_TIMEOUT=%ld: expected less than SUPERVISOR_READY_INTERVAL=%ld",
                         ret->ready_timeout_s, ret->ready_interval_s);
                report(msg, report_data);
                bad = 1;
        }
        return bad ? -EINVAL : 0;
}

void settings_describe(FILE *out)
{
        for (size_t i = 0; i < N_ROWS; i++) {
                char expected[200];
                describe_expected(&setting_rows[i], expected, sizeof expected);
                fprintf(out, "  %-26s default %-12s %s\n", setting_rows[i].env, setting_rows[i].def, expected);
        }
}

/* Whether the entries "NAME=value" a and b (or b just "NAME") set one NAME. */
static bool env_same_name(const char *a, const char *b)
{
        size_t len = strcspn(b, "=");
        return strncmp(a, b, len) == 0 && a[len] == '=';
}

static bool env_secret(const char *entry)
{
        for (size_t i = 0; i < N_ROWS; i++)
                if (setting_rows[i].secret && env_same_name(entry, setting_rows[i].env))
                        return true;
        return false;
}

char **settings_child_env(char *const *envp, char *set)
{
        size_t n = 0, k = 0;
        char **out;

        while (envp[n])
                n++;
        out = calloc(n + 2, sizeof *out);
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (!env_secret(envp[i]) && !(set && env_same_name(envp[i], set)))
                        out[k++] = envp[i];
        out[k] = set;
        return out;
}

const char *settings_getenv(const char *name, void *data)
{
        (void)data;
        return getenv(name);
}

void settings_report_stderr(const char *message, void *data)
{
        (void)data;
        fprintf(stderr, "flink-supervisor: %s\n", message);
}
