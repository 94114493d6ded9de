/* amplan: see amplan.h. */
#include "flink/amplan.h"

#include <stdio.h>
#include <string.h>

void amplan_init(struct amplan_memory *m)
{
        memset(m, 0, sizeof *m);
}

const char *amplan_kind_name(enum amplan_kind kind)
{
        static const char *const names[] = { "wait", "create", "scale", "kill", "remove" };
        return names[kind];
}

static struct amplan_seen *find(struct amplan_seen *set, size_t n, const char *id)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(set[i].id, id) == 0)
                        return &set[i];
        return NULL;
}

/* The entries of set that keep(), in order, with their times. */
static size_t keep_only(struct amplan_seen *set, size_t n, bool (*keep)(const char *id, const void *data), const void *data)
{
        size_t out = 0;

        for (size_t i = 0; i < n; i++)
                if (keep(set[i].id, data))
                        set[out++] = set[i];
        return out;
}

static void add(struct amplan_seen *set, size_t *n, const char *id, uint64_t now)
{
        if (*n == AMPLAN_MAX_TMS || find(set, *n, id))
                return;
        snprintf(set[*n].id, sizeof set[*n].id, "%s", id);
        set[*n].since_ms = now;
        (*n)++;
}

static const struct amplan_tm *tm_of(const struct amplan_obs *o, const char *id)
{
        for (size_t i = 0; i < o->n_tms; i++)
                if (strcmp(o->tms[i].id, id) == 0)
                        return &o->tms[i];
        return NULL;
}

static bool is_task(const struct amplan_obs *o, const char *id)
{
        for (size_t i = 0; i < o->n_tasks; i++)
                if (strcmp(o->tasks[i].id, id) == 0)
                        return true;
        return false;
}

static bool idle_tm(const char *id, const void *data)
{
        const struct amplan_tm *tm = tm_of(data, id);
        return tm && tm->free >= tm->slots;
}

static bool registered_tm(const char *id, const void *data)
{
        return tm_of(data, id) != NULL;
}

static bool unregistered_task(const char *id, const void *data)
{
        return is_task(data, id) && !tm_of(data, id);
}

/* Flink's part of the memory: idle times, and a TaskManager that
 * registers (one not seen last round) ends a streak of failures. */
static void learn_flink(struct amplan_memory *m, const struct amplan_obs *o)
{
        bool fresh = false;

        m->n_idle = keep_only(m->idle, m->n_idle, idle_tm, o);
        for (size_t i = 0; i < o->n_tms; i++) {
                if (o->tms[i].free >= o->tms[i].slots)
                        add(m->idle, &m->n_idle, o->tms[i].id, o->now_ms);
                if (!find(m->registered, m->n_registered, o->tms[i].id))
                        fresh = true;
        }
        m->n_registered = keep_only(m->registered, m->n_registered, registered_tm, o);
        for (size_t i = 0; i < o->n_tms; i++)
                add(m->registered, &m->n_registered, o->tms[i].id, o->now_ms);
        if (fresh)
                m->failed = 0;
}

/* Marathon's part: a new lastTaskFailure, or a task that ran past the
 * registration timeout without registering, is one failure. Tasks are
 * only judged with Flink's view of the same round. */
static void learn_marathon(struct amplan_memory *m, const struct amconf *cfg, const struct amplan_obs *o)
{
        if (o->last_failure[0] && strcmp(o->last_failure, m->last_failure) != 0) {
                /* The first answer only tells what happened before us. */
                if (m->marathon_seen)
                        m->failed++;
                snprintf(m->last_failure, sizeof m->last_failure, "%s", o->last_failure);
        }
        m->marathon_seen = true;
        if (!o->flink)
                return;
        m->n_tasks = keep_only(m->tasks, m->n_tasks, unregistered_task, o);
        for (size_t i = 0; i < o->n_tasks; i++) {
                struct amplan_seen *t = find(m->tasks, m->n_tasks, o->tasks[i].id);
                if (tm_of(o, o->tasks[i].id))
                        continue;
                if (!t) {
                        add(m->tasks, &m->n_tasks, o->tasks[i].id, o->now_ms);
                } else if (t->since_ms != UINT64_MAX && o->now_ms - t->since_ms >= (uint64_t)cfg->registration_timeout_ms) {
                        t->since_ms = UINT64_MAX;  /* counted once */
                        m->failed++;
                }
        }
}

static long clamp(long v, long lo, long hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

/* The registered task idle the longest, past the timeout; NULL: none. */
static const struct amplan_seen *idle_victim(const struct amconf *cfg, const struct amplan_obs *o,
                                             const struct amplan_memory *m)
{
        const struct amplan_seen *best = NULL;

        for (size_t i = 0; i < m->n_idle; i++) {
                const struct amplan_seen *s = &m->idle[i];
                if (o->now_ms - s->since_ms < (uint64_t)cfg->idle_timeout_ms || !is_task(o, s->id))
                        continue;
                if (!best || s->since_ms < best->since_ms)
                        best = s;
        }
        return best;
}

static void decide(const struct amconf *cfg, const struct amplan_obs *o, const struct amplan_memory *m,
                   struct amplan_action *a)
{
        long slots = cfg->slots > 0 ? cfg->slots : 1;
        long floor = cfg->initial_tasks;
        const struct amplan_seen *victim;

        a->wanted = clamp((a->slots_needed + slots - 1) / slots, floor, cfg->max_tasks);
        if (!o->leader) {
                a->reason = "standby: another JobManager leads";
                return;
        }
        if (cfg->job_group[0] && m->ended_since_ms) {
                bool due = o->now_ms - m->ended_since_ms >= (uint64_t)cfg->job_linger_ms;
                a->kind = due ? AMPLAN_REMOVE : AMPLAN_WAIT;
                a->reason = due ? "the job ended: removing its cluster" : "the job ended: its cluster stays for SUPERVISOR_JOB_LINGER";
                return;
        }
        if (!o->marathon) {
                a->reason = "no answer from Marathon this round";
                return;
        }
        if (!o->app_exists) {
                a->kind = AMPLAN_CREATE;
                a->instances = o->flink ? a->wanted : floor;
                a->reason = "no TaskManager app: creating it";
                return;
        }
        if (o->deployments > 0) {
                a->reason = "a deployment holds the TaskManager app";
                return;
        }
        if (!o->flink) {
                a->reason = "no answer from Flink's REST this round";
                return;
        }
        if (a->wanted > o->instances) {
                if (a->blocked) {
                        a->reason = "scale-up stopped: too many TaskManager tasks failed since one last registered";
                        return;
                }
                a->kind = AMPLAN_SCALE;
                a->instances = a->wanted;
                a->reason = o->instances < floor ? "below mesos.initial-tasks" : "the jobs need more slots";
                return;
        }
        if (o->instances > a->wanted && o->instances > floor) {
                if ((victim = idle_victim(cfg, o, m))) {
                        a->kind = AMPLAN_KILL;
                        a->instances = o->instances - 1;
                        snprintf(a->task, sizeof a->task, "%s", victim->id);
                        a->reason = "every slot of the TaskManager free for resourcemanager.taskmanager-timeout";
                } else {
                        a->reason = "more TaskManagers than needed, none idle past the timeout";
                }
                return;
        }
        a->reason = "steady";
}

void amplan_step(const struct amconf *cfg, const struct amplan_obs *o, struct amplan_memory *m, struct amplan_action *ret)
{
        *ret = (struct amplan_action){ .kind = AMPLAN_WAIT, .slots_needed = o->flink ? o->slots_needed : 0 };
        if (!o->leader) {
                /* A standby learns nothing: when it leads, it starts from
                 * what Flink and Marathon say then. */
                amplan_init(m);
        } else {
                if (o->flink) {
                        learn_flink(m, o);
                        if (!o->jobs_ended)
                                m->ended_since_ms = 0;
                        else if (!m->ended_since_ms)
                                m->ended_since_ms = o->now_ms ? o->now_ms : 1;
                }
                if (o->marathon)
                        learn_marathon(m, cfg, o);
        }
        ret->failed = m->failed;
        ret->blocked = m->failed >= cfg->max_failed;
        ret->registered = (long)o->n_tms;
        for (size_t i = 0; i < o->n_tms; i++)
                ret->slots_free += o->tms[i].free;
        ret->pending = o->instances > ret->registered ? o->instances - ret->registered : 0;
        decide(cfg, o, m, ret);
}
