/* flinkrest: what the Application Master reads from Flink's REST answers.
 * Pure parsers: the text of an answer in, numbers out.
 *
 * The need of a job is counted in slots as Flink's slot sharing makes it
 * by default (every vertex in one group): its highest vertex parallelism.
 * With the adaptive scheduler that is the upper bound of its resource
 * requirements (GET /jobs/:id/resource-requirements, Flink >= 1.18), with
 * the default scheduler the parallelism in GET /jobs/:id. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "flink/amplan.h"

#define FLINKREST_MAX_JOBS 64
#define FLINKREST_JOB_ID 33

/* GET /taskmanagers: id, slotsNumber and freeSlots of each. Returns 0 or
 * -EPROTO (not that shape). At most max are kept; *n says how many. */
int flinkrest_taskmanagers(const char *text, size_t len, struct amplan_tm *tms, size_t max, size_t *n);
/* GET /jobs/overview: the ids of the jobs that run or wait to run
 * (CREATED, INITIALIZING, RUNNING, RESTARTING, RECONCILING), and in
 * *ended whether there are jobs and every one is globally terminal
 * (FINISHED, FAILED, CANCELED). Returns 0 or -EPROTO. */
int flinkrest_active_jobs(const char *text, size_t len, char (*ids)[FLINKREST_JOB_ID], size_t max, size_t *n,
                          bool *ended);
/* GET /jobs/:id/resource-requirements: the highest upper bound. Returns 0 or -EPROTO. */
int flinkrest_requirements(const char *text, size_t len, long *slots);
/* GET /jobs/:id: the highest vertex parallelism. Returns 0 or -EPROTO. */
int flinkrest_parallelism(const char *text, size_t len, long *slots);
