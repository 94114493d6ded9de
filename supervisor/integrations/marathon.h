/* marathon: puts our health and readiness checks on our own Marathon app.
 *
 * GET the app, plan with appchecks, and write (PATCH; PUT where PATCH is
 * unknown) only what differs. Everything runs on the loop through http:
 * the children never wait for Marathon, and no answer of Marathon's can
 * stop them. A write makes Marathon replace every task of the app, so
 * instances that start together must cause one write: each waits while a
 * deployment holds the app, and before writing waits a random moment and
 * reads the app again; the first writer's deployment (or its result)
 * is what the others then see. Never force=true: 409 means wait.
 *
 * Credentials are read from files (and read again after a 401/403, for
 * DC/OS tokens expire); they are never logged. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/timer.h"
#include "integrations/appchecks.h"
#include "integrations/http.h"

/* Transient failures (5xx, timeouts, refused, malformed answers) and
 * refusals (401/403) are retried this many times in all. */
#define MARATHON_MAX_ATTEMPTS 8
/* How long to wait at most for deployments of the app to end. */
#define MARATHON_MAX_WAIT_MS (60u * 60u * 1000u)

struct marathon_config {
        const char *url;              /* MARATHON_URL */
        const char *app_id;           /* MARATHON_APP_ID, "/group/app" */
        const char *credentials_file; /* "user:password" */
        const char *token_file;       /* DC/OS service token */
        const char *ca_file;
        struct appchecks_want want;
};

/* How we show Marathon who we are: read from files, again after a 401/403. */
struct marathon_auth {
        char ca_file[512];
        char credentials_file[512];
        char token_file[512];
        char userpwd[512];            /* secret */
        char auth_header[2100];       /* secret: "Authorization: token=..." */
};

enum marathon_state { MARATHON_IDLE, MARATHON_READING, MARATHON_WRITING, MARATHON_DONE, MARATHON_FAILED };

struct marathon {
        struct http *http;
        struct loop *loop;
        struct timer timer;
        struct http_call *call;
        enum marathon_state state;
        char app_url[1200];
        struct marathon_auth auth;
        struct appchecks_want want;
        char *body;                   /* the write planned by the last read */
        bool confirmed;               /* the app was read again after the random wait */
        bool use_put;                 /* this Marathon has no PATCH */
        unsigned attempts;
        uint64_t waited_ms;
        uint64_t rng;
        uint64_t writes;              /* writes that Marathon accepted */
};

/* Pure: validates MARATHON_URL and MARATHON_APP_ID. Returns 0 or -EINVAL
 * with one line in err. */
int marathon_check(const char *url, const char *app_id, char *err, size_t errlen);
/* Takes the files' paths from cfg (absolute) and reads them. Returns 0 or -ENAMETOOLONG. */
int marathon_auth_open(struct marathon_auth *a, const struct marathon_config *cfg);
/* Reads the files again; returns true when the credentials changed. */
bool marathon_auth_load(struct marathon_auth *a);
/* Puts the credentials on req; headers has room for one more line at [2]. */
void marathon_auth_apply(const struct marathon_auth *a, struct http_request *req, const char **headers);
/* What a 401/403 asks of the operator. */
const char *marathon_auth_expected(const struct marathon_auth *a);
void marathon_auth_wipe(struct marathon_auth *a);
/* Marathon's own words about a failure, short and on one line. */
void marathon_message(const struct http_response *resp, char *out, size_t size);

/* Starts registration at once. Returns 0 or -errno. */
int marathon_open(struct marathon *m, struct loop *l, struct http *http, const struct marathon_config *cfg);
bool marathon_registered(const struct marathon *m);
void marathon_close(struct marathon *m);
