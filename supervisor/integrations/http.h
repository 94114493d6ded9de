/* http: the HTTP client (libcurl's multi interface) that the Flink probes
 * and the Marathon registration use, driven by the supervisor's loop.
 *
 * curl's sockets sit in an epoll set of our own whose fd is one source in
 * the loop, and curl's timeout is one timer: no thread of ours, no
 * blocking call, no per-socket allocation to outlive an event batch.
 * Name lookups run on curl's resolver thread, never on the loop.
 * libcurl is loaded by http_open: a supervisor that asks nothing over
 * HTTP never maps it (nor the TLS libraries behind it).
 *
 * A call owns copies of everything in its request; the response handed to
 * done() is borrowed for the duration of the callback. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "core/loop.h"
#include "core/timer.h"

/* Responses larger than this are cut off and reported as an error. */
#define HTTP_MAX_BODY (1u << 20)
#define HTTP_MAX_REDIRECTS 3

struct curl_api;
struct http_call;

struct http {
        struct curl_api *curl;
        void *multi;              /* CURLM */
        struct loop *loop;
        struct loop_source src;   /* our epoll set of curl's sockets */
        struct timer timer;
        struct http_call *calls;  /* in flight */
};

struct http_request {
        const char *method;       /* "GET", "PUT", "PATCH", ... */
        const char *url;
        const char *body;         /* NULL: none */
        size_t body_len;
        const char *const *headers;/* NULL-terminated "Name: value" lines, or NULL */
        const char *userpwd;      /* basic auth "user:password", or NULL */
        const char *ca_file;      /* PEM bundle for https, or NULL: the system's */
        long timeout_ms;
        size_t max_body;          /* 0: HTTP_MAX_BODY */
        bool follow;              /* follow up to HTTP_MAX_REDIRECTS redirects */
};

struct http_response {
        long status;              /* 0 when no response came */
        const char *body;         /* NUL-terminated */
        size_t len;
        const char *error;        /* NULL, or why no (whole) response came */
};

typedef void (*http_done_fn)(const struct http_response *resp, void *data);

/* Loads libcurl and joins the loop. Returns 0 or -errno (-ENOENT: no libcurl). */
int http_open(struct http *h, struct loop *l);
/* Starts a request; done runs later on the loop thread, exactly once,
 * unless the call is cancelled first. *ret (may be NULL) identifies the
 * call for http_cancel until done has run. Returns 0 or -errno. */
int http_start(struct http *h, const struct http_request *req, http_done_fn done, void *data, struct http_call **ret);
/* Drops a call in flight; its done never runs. */
void http_cancel(struct http *h, struct http_call *call);
/* Cancels whatever is in flight and unloads libcurl. Safe after a failed open. */
void http_close(struct http *h);
