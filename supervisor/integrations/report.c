/* report: see report.h. */
#include "integrations/report.h"

#include <stdarg.h>
#include <stdio.h>

struct out {
        char *buf;
        size_t size, len;
};

__attribute__((format(printf, 2, 3))) static void put(struct out *o, const char *fmt, ...)
{
        va_list ap;

        if (o->len >= o->size)
                return;
        va_start(ap, fmt);
        int n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
        va_end(ap);
        if (n > 0)
                o->len += (size_t)n < o->size - o->len ? (size_t)n : o->size - o->len - 1;
}

size_t report_health_json(const struct report_snapshot *s, bool readiness, char *buf, size_t size)
{
        struct out o = { buf, size, 0 };
        bool ok = readiness ? s->ready : s->healthy;

        buf[0] = '\0';
        put(&o, "{\"status\":\"%s\",\"uptime_s\":%llu,\"children\":[", ok ? "ok" : "unavailable",
            (unsigned long long)s->uptime_s);
        for (size_t i = 0; i < s->n_children; i++) {
                const struct report_child *c = &s->children[i];
                put(&o, "%s{\"name\":\"%s\",\"state\":\"%s\",\"pid\":%d,\"restarts\":%llu", i ? "," : "", c->name,
                    c->state, c->pid, (unsigned long long)c->restarts);
                if (c->last_code >= 0)
                        put(&o, ",\"last_exit_code\":%d", c->last_code);
                put(&o, "}");
        }
        put(&o, "]");
        if (s->zk_enabled)
                put(&o, ",\"zookeeper\":{\"connected\":%s,\"config_rejections\":%llu}", s->zk_connected ? "true" : "false",
                    (unsigned long long)s->config_rejections);
        if (s->marathon_enabled)
                put(&o, ",\"marathon\":{\"registered\":%s}", s->marathon_registered ? "true" : "false");
        if (s->am_enabled)
                put(&o, ",\"appmaster\":{\"leader\":%s,\"taskmanagers\":{\"wanted\":%ld,\"instances\":%ld,"
                        "\"registered\":%ld,\"pending\":%ld},\"failed_tasks\":%ld,\"scale_up_stopped\":%s,\"decision\":\"%s\"}",
                    s->am_leader ? "true" : "false", s->am_wanted, s->am_instances, s->am_registered, s->am_pending,
                    s->am_failed, s->am_blocked ? "true" : "false", s->am_reason ? s->am_reason : "");
        put(&o, "}\n");
        return o.len;
}

static void gauge(struct out *o, const char *name, const char *help, const char *type, long long v)
{
        put(o, "# HELP flink_supervisor_%s %s\n# TYPE flink_supervisor_%s %s\nflink_supervisor_%s %lld\n", name, help, name,
            type, name, v);
}

static void appmaster_metrics(struct out *o, const struct report_snapshot *s)
{
        gauge(o, "appmaster_leader", "1 while this appmaster leads and allocates.", "gauge", s->am_leader);
        gauge(o, "taskmanagers_wanted", "TaskManagers the jobs need, within the floor and the maximum.", "gauge", s->am_wanted);
        gauge(o, "taskmanagers_instances", "Instances of the TaskManager app.", "gauge", s->am_instances);
        gauge(o, "taskmanagers_registered", "TaskManagers registered with Flink.", "gauge", s->am_registered);
        gauge(o, "taskmanagers_pending", "Instances not registered yet.", "gauge", s->am_pending);
        gauge(o, "taskmanager_failed_tasks", "TaskManager tasks failed since one last registered.", "gauge", s->am_failed);
        gauge(o, "appmaster_scale_up_stopped", "1 while scale-up is stopped for failed tasks.", "gauge", s->am_blocked);
        gauge(o, "appmaster_scale_ups_total", "Writes that raised the TaskManager app's instances.", "counter",
              (long long)s->am_scale_ups);
        gauge(o, "appmaster_scale_downs_total", "Idle TaskManagers removed.", "counter", (long long)s->am_scale_downs);
        gauge(o, "appmaster_marathon_writes_total", "Writes of the appmaster that Marathon accepted.", "counter",
              (long long)s->am_writes);
        gauge(o, "appmaster_marathon_write_failures_total", "Writes of the appmaster that Marathon did not accept.", "counter",
              (long long)s->am_write_failures);
}

size_t report_metrics(const struct report_snapshot *s, char *buf, size_t size)
{
        struct out o = { buf, size, 0 };

        buf[0] = '\0';
        put(&o, "# HELP flink_supervisor_up 1 while the supervised processes are healthy.\n"
                "# TYPE flink_supervisor_up gauge\nflink_supervisor_up %d\n", s->healthy ? 1 : 0);
        put(&o, "# HELP flink_supervisor_ready 1 once the role is ready.\n"
                "# TYPE flink_supervisor_ready gauge\nflink_supervisor_ready %d\n", s->ready ? 1 : 0);
        put(&o, "# HELP flink_supervisor_uptime_seconds Seconds since the supervisor started.\n"
                "# TYPE flink_supervisor_uptime_seconds gauge\nflink_supervisor_uptime_seconds %llu\n",
            (unsigned long long)s->uptime_s);
        put(&o, "# HELP flink_supervisor_child_running 1 while the child runs.\n"
                "# TYPE flink_supervisor_child_running gauge\n");
        for (size_t i = 0; i < s->n_children; i++)
                put(&o, "flink_supervisor_child_running{child=\"%s\"} %d\n", s->children[i].name, s->children[i].pid > 0);
        put(&o, "# HELP flink_supervisor_child_restarts_total Restarts of the child.\n"
                "# TYPE flink_supervisor_child_restarts_total counter\n");
        for (size_t i = 0; i < s->n_children; i++)
                put(&o, "flink_supervisor_child_restarts_total{child=\"%s\"} %llu\n", s->children[i].name,
                    (unsigned long long)s->children[i].restarts);
        put(&o, "# HELP flink_supervisor_orphans_reaped_total Orphaned processes reaped.\n"
                "# TYPE flink_supervisor_orphans_reaped_total counter\nflink_supervisor_orphans_reaped_total %llu\n",
            (unsigned long long)s->orphans_reaped);
        if (s->zk_enabled) {
                put(&o, "# HELP flink_supervisor_zookeeper_connected 1 while the ZooKeeper session is connected.\n"
                        "# TYPE flink_supervisor_zookeeper_connected gauge\nflink_supervisor_zookeeper_connected %d\n",
                    s->zk_connected ? 1 : 0);
                put(&o, "# HELP flink_supervisor_config_rejections_total Config documents rejected as invalid.\n"
                        "# TYPE flink_supervisor_config_rejections_total counter\n"
                        "flink_supervisor_config_rejections_total %llu\n",
                    (unsigned long long)s->config_rejections);
                put(&o, "# HELP flink_supervisor_config_changes_applied_total Config changes applied by a rolling restart.\n"
                        "# TYPE flink_supervisor_config_changes_applied_total counter\n"
                        "flink_supervisor_config_changes_applied_total %llu\n",
                    (unsigned long long)s->config_changes_applied);
        }
        if (s->marathon_enabled) {
                put(&o, "# HELP flink_supervisor_marathon_registered 1 once the app carries our health and readiness checks.\n"
                        "# TYPE flink_supervisor_marathon_registered gauge\nflink_supervisor_marathon_registered %d\n",
                    s->marathon_registered ? 1 : 0);
                put(&o, "# HELP flink_supervisor_marathon_writes_total Updates of the app that Marathon accepted.\n"
                        "# TYPE flink_supervisor_marathon_writes_total counter\nflink_supervisor_marathon_writes_total %llu\n",
                    (unsigned long long)s->marathon_writes);
        }
        if (s->am_enabled)
                appmaster_metrics(&o, s);
        return o.len;
}
