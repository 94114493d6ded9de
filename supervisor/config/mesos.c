/* mesos: see mesos.h. */
#include "config/mesos.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/settings.h"

/* A Marathon port name, the key Flink advertises and the key it binds.
 * advertised_key NULL: the bound port is the only key; announced: Flink
 * also tells others to connect to that same number (the blob server), so a
 * host port that differs from it cannot work. */
struct port_map {
        const char *name;
        const char *advertised_key;
        const char *bind_key;
        bool announced;
};

static const struct port_map jobmanager_ports[] = {
        { "REST", "rest.port", "rest.bind-port", false },
        { "RPC", "jobmanager.rpc.port", "jobmanager.rpc.bind-port", false },
        { "BLOB", NULL, "blob.server.port", true },
        { "METRICS", NULL, "metrics.reporter.prom.port", false },
        { NULL, NULL, NULL, false },
};
static const struct port_map taskmanager_ports[] = {
        { "RPC", "taskmanager.rpc.port", "taskmanager.rpc.bind-port", false },
        { "DATA", "taskmanager.data.port", "taskmanager.data.bind-port", false },
        { "METRICS", NULL, "metrics.reporter.prom.port", false },
        { NULL, NULL, NULL, false },
};
static const struct port_map history_ports[] = {
        { "REST", NULL, "historyserver.web.port", false },
        { NULL, NULL, NULL, false },
};

static const char *env_get(const struct mesos_env *env, const char *name)
{
        size_t n = strlen(name);
        for (char *const *e = env->envp; e && *e; e++)
                if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
                        return *e + n + 1;
        return NULL;
}

static bool is_jobmanager(enum role role)
{
        return role == ROLE_JOBMANAGER || role == ROLE_APPMASTER || role == ROLE_STANDALONE_JOB || role == ROLE_LOCAL;
}

static int parse_port(const char *var, const char *value, long *ret, char *err, size_t errlen)
{
        if (settings_parse_long(value, 1, 65535, ret) < 0) {
                snprintf(err, errlen, "invalid %s=\"%.32s\": expected a port number from 1 to 65535", var, value);
                return -EINVAL;
        }
        return 0;
}

/* In BRIDGE networking Marathon sets PORT_<containerPort>=<hostPort>; the
 * container port of a host port is the n whose PORT_<n> holds it. */
static long container_port_of(const struct mesos_env *env, long host_port)
{
        for (char *const *e = env->envp; e && *e; e++) {
                const char *s = *e;
                long n, v;
                if (strncmp(s, "PORT_", 5) != 0 || !isdigit((unsigned char)s[5]))
                        continue;
                const char *eq = strchr(s, '=');
                char num[8];
                if (!eq || eq - (s + 5) >= (long)sizeof num)
                        continue;
                memcpy(num, s + 5, (size_t)(eq - (s + 5)));
                num[eq - (s + 5)] = '\0';
                if (settings_parse_long(num, 1, 65535, &n) == 0 && settings_parse_long(eq + 1, 1, 65535, &v) == 0 &&
                    v == host_port && n != host_port)
                        return n;
        }
        return host_port;
}

/* HOST networking shares the agent's hostname; BRIDGE has its own. */
static bool is_bridge(const struct mesos_env *env)
{
        const char *host = env_get(env, "HOST");
        if (!host || !env->hostname)
                return true;
        size_t n = strcspn(host, ".");
        return !(strcmp(host, env->hostname) == 0 ||
                 (strncmp(host, env->hostname, n) == 0 && env->hostname[n] == '\0'));
}

int mesos_bind_port(const struct mesos_env *env, const char *name, long *ret, char *err, size_t errlen)
{
        char var[32];
        const char *value;
        long host_port;
        int r;

        snprintf(var, sizeof var, "PORT_%s", name);
        value = env_get(env, var);
        if (!value)
                return -ENOENT;
        if ((r = parse_port(var, value, &host_port, err, errlen)) < 0)
                return r;
        *ret = is_bridge(env) ? container_port_of(env, host_port) : host_port;
        return 0;
}

static int set_num(struct conf *c, const char *key, long v)
{
        char buf[24];
        snprintf(buf, sizeof buf, "%ld", v);
        return conf_set(c, key, buf, CONF_SRC_MESOS);
}

/* Marathon sets PORT_<NAME> for every named port. Where an app names its
 * ports, PORT<i> is the i-th of those names, not the i-th of ours: the
 * positions below are for apps with unnamed ports only. */
static bool has_named_ports(const struct mesos_env *env)
{
        for (char *const *e = env->envp; e && *e; e++)
                if (strncmp(*e, "PORT_", 5) == 0 && isalpha((unsigned char)(*e)[5]))
                        return true;
        return false;
}

static int apply_ports(struct conf *c, const struct port_map *map, const struct mesos_env *env,
                       confyaml_warn_fn warn, void *warn_data, char *err, size_t errlen)
{
        bool bridge = is_bridge(env), named = has_named_ports(env);

        for (int i = 0; map[i].name; i++) {
                char var[32];
                const char *value;
                long host_port, bind_port;
                int r;

                snprintf(var, sizeof var, "PORT_%s", map[i].name);
                value = env_get(env, var);
                if (!value && strcmp(map[i].name, "REST") == 0) {
                        snprintf(var, sizeof var, "PORT_UI");
                        value = env_get(env, var);
                }
                if (!value && !named) {
                        snprintf(var, sizeof var, "PORT%d", i);
                        value = env_get(env, var);
                }
                if (!value)
                        continue;
                if ((r = parse_port(var, value, &host_port, err, errlen)) < 0)
                        return r;
                bind_port = bridge ? container_port_of(env, host_port) : host_port;
                if (map[i].announced && bind_port != host_port && warn) {
                        char msg[200];
                        snprintf(msg, sizeof msg, "%s: container port %ld differs from host port %ld, but %s is announced as bound: map it to the same port",
                                 var, bind_port, host_port, map[i].bind_key);
                        warn(msg, warn_data);
                }
                if (map[i].advertised_key && (r = set_num(c, map[i].advertised_key, host_port)) < 0)
                        return r;
                if ((r = set_num(c, map[i].bind_key, bind_port)) < 0)
                        return r;
        }
        return 0;
}

/* Marathon writes resources as decimals ("1024.0"): whole part only. */
static int parse_decimal(const char *s, long max, long *ret)
{
        char whole[24];
        size_t n = strspn(s, "0123456789");

        if (n == 0 || n >= sizeof whole || (s[n] != '\0' && (s[n] != '.' || strspn(s + n + 1, "0123456789") != strlen(s + n + 1))))
                return -EINVAL;
        memcpy(whole, s, n);
        whole[n] = '\0';
        return settings_parse_long(whole, 0, max, ret);
}

static int apply_memory(struct conf *c, enum role role, const struct mesos_env *env, confyaml_warn_fn warn,
                        void *warn_data, char *err, size_t errlen)
{
        const char *mem = env_get(env, "MARATHON_APP_RESOURCE_MEM");
        long total = (long)env->cgroup_limit_mb;
        char buf[32];
        int r = 0;

        if (mem && parse_decimal(mem, 1L << 30, &total) < 0) {
                snprintf(err, errlen, "invalid MARATHON_APP_RESOURCE_MEM=\"%.32s\": expected megabytes such as 1024.0", mem);
                return -EINVAL;
        }
        if (total <= 0 || role == ROLE_HISTORY_SERVER)
                return 0;
        long usable = total - MESOS_HEADROOM_MB;
        if (usable < 256) {
                if (warn) {
                        char msg[160];
                        snprintf(msg, sizeof msg, "container memory %ld MB is too small to size Flink from: Flink's own defaults apply", total);
                        warn(msg, warn_data);
                }
                return 0;
        }
        if (role == ROLE_LOCAL) {
                /* One JobManager and one TaskManager share the container. */
                snprintf(buf, sizeof buf, "%ldm", usable * 2 / 5);
                r = conf_set_default(c, "jobmanager.memory.process.size", buf, CONF_SRC_MESOS, CONF_SRC_ZOOKEEPER);
                snprintf(buf, sizeof buf, "%ldm", usable - usable * 2 / 5);
                if (r == 0)
                        r = conf_set_default(c, "taskmanager.memory.process.size", buf, CONF_SRC_MESOS, CONF_SRC_ZOOKEEPER);
                return r;
        }
        snprintf(buf, sizeof buf, "%ldm", usable);
        return conf_set_default(c, is_jobmanager(role) ? "jobmanager.memory.process.size" : "taskmanager.memory.process.size",
                                buf, CONF_SRC_MESOS, CONF_SRC_ZOOKEEPER);
}

int mesos_apply(struct conf *c, enum role role, const struct mesos_env *env, confyaml_warn_fn warn,
                void *warn_data, char *err, size_t errlen)
{
        const char *host = env_get(env, "HOST");
        const char *task = env_get(env, "MESOS_TASK_ID");
        const char *cpus = env_get(env, "MARATHON_APP_RESOURCE_CPUS");
        bool tm = role == ROLE_TASKMANAGER || role == ROLE_LOCAL;
        int r = 0;

        if (host && *host) {
                if (is_jobmanager(role)) {
                        r = conf_set(c, "jobmanager.rpc.address", host, CONF_SRC_MESOS);
                        if (r == 0)
                                r = conf_set(c, "rest.address", host, CONF_SRC_MESOS);
                } else if (role == ROLE_TASKMANAGER) {
                        r = conf_set(c, "taskmanager.host", host, CONF_SRC_MESOS);
                }
        }
        if (r == 0) {
                const struct port_map *map = is_jobmanager(role) ? jobmanager_ports
                                             : role == ROLE_TASKMANAGER ? taskmanager_ports : history_ports;
                r = apply_ports(c, map, env, warn, warn_data, err, errlen);
        }
        if (r == 0 && tm && task && *task)
                r = conf_set(c, "taskmanager.resource-id", task, CONF_SRC_MESOS);
        if (r == 0 && tm && cpus) {
                long n;
                if (parse_decimal(cpus, 4096, &n) < 0) {
                        snprintf(err, errlen, "invalid MARATHON_APP_RESOURCE_CPUS=\"%.32s\": expected a decimal such as 2.0", cpus);
                        return -EINVAL;
                }
                char buf[24];
                snprintf(buf, sizeof buf, "%ld", n < 1 ? 1 : n);
                r = conf_set_default(c, "taskmanager.numberOfTaskSlots", buf, CONF_SRC_MESOS, CONF_SRC_ZOOKEEPER);
        }
        if (r == 0)
                r = apply_memory(c, role, env, warn, warn_data, err, errlen);
        return r;
}
