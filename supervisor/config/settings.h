/* settings: the supervisor's own SUPERVISOR_* settings, from one table.
 *
 * Each row names the environment variable, its type, bounds, default and
 * where the value lives, so parsing, validation, defaults and the help text
 * come from one place. Pure: the environment is read through a callback. */
#pragma once

#include <stddef.h>
#include <stdio.h>

#include "base/log.h"
#include "core/policy.h"

struct settings {
        long restart;           /* enum restart_policy */
        long stop_timeout_s;
        long backoff_min_ms;
        long backoff_max_ms;
        long backoff_reset_s;
        long max_restarts;
        long restart_window_s;
        long log_level;         /* enum log_level */
        long log_format;        /* enum log_format */
        const char *user;       /* borrowed from the environment; NULL = default */
        const char *conf_dir;   /* borrowed from the environment; NULL = default */
        const char *health_port;/* parsed by health_port(); NULL = default */
        const char *zk_quorum;  /* FLINK_ZK_QUORUM; NULL: no ZooKeeper */
        const char *zk_path;    /* FLINK_ZK_CONFIG_PATH; NULL = default */
        const char *zk_auth;    /* FLINK_ZK_AUTH; a secret */
        const char *zk_cache_dir;
        long zk_on_change;      /* enum zk_on_change */
        long zk_timeout_s;
        /* Flink-aware probes */
        long probe_interval_s;
        long probe_timeout_s;
        long probe_grace_s;
        long probe_failures;
        const char *probe_url;  /* NULL: from the Flink configuration */
        /* Marathon registration: on when both url and app id are set */
        const char *marathon_url;
        const char *marathon_app_id;
        const char *marathon_credentials_file;
        const char *marathon_token_file;
        const char *marathon_ca_file;
        long check_protocol;    /* enum check_protocol */
        long check_grace_s;
        long check_interval_s;
        long check_timeout_s;
        long check_failures;
        long ready_interval_s;
        long ready_timeout_s;
        /* The Application Master (role appmaster with MARATHON_URL) */
        const char *tm_app_id;  /* NULL: <MARATHON_APP_ID>-taskmanagers */
        long tm_max;
        long tm_registration_timeout_s;
        long am_interval_s;
        /* A job cluster (run-job): the group its appmaster removes when the job ended */
        const char *job_group;  /* NULL: none is removed */
        long job_linger_s;
};

enum check_protocol { CHECK_HTTP, CHECK_MESOS_HTTP };

enum zk_on_change { ZK_ON_CHANGE_RESTART, ZK_ON_CHANGE_IGNORE };

typedef const char *(*settings_getenv_fn)(const char *name, void *data);
/* Called once per invalid setting with a complete one-line message. */
typedef void (*settings_report_fn)(const char *message, void *data);

/* Fills *ret with defaults overridden by the environment. Every invalid
 * value is reported; returns 0, or -EINVAL when anything was invalid (then
 * *ret is unspecified). An empty variable counts as unset. */
int settings_load(struct settings *ret, settings_getenv_fn getenv_fn, void *env_data,
                  settings_report_fn report, void *report_data);

/* A settings_getenv_fn over the process environment (data unused). */
const char *settings_getenv(const char *name, void *data);
/* A settings_report_fn printing "flink-supervisor: MESSAGE" on stderr. */
void settings_report_stderr(const char *message, void *data);

/* Prints the table (variable, default, expected values) for --help. */
void settings_describe(FILE *out);

/* The environment children get: envp without the secret settings
 * (FLINK_ZK_AUTH, MARATHON_CREDENTIALS_FILE, MARATHON_TOKEN_FILE), and
 * with set ("NAME=value"; NULL: none) in place of any NAME. A new array
 * (the caller frees it) of envp's strings and set; NULL without memory. */
char **settings_child_env(char *const *envp, char *set);

/* Strict integer parsing: decimal digits only, optional leading '-', no
 * spaces, within [min, max]. Returns 0 or -EINVAL / -ERANGE. */
int settings_parse_long(const char *s, long min, long max, long *ret);
